"""Small-distance geometry on WGS-84 degrees, vectorised with numpy."""

from __future__ import annotations

import numpy as np

EARTH_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def offset(lat: np.ndarray, lon: np.ndarray, km: np.ndarray, bearing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The point KM away from (lat, lon) towards BEARING (radians from north)."""
    dlat = km * np.cos(bearing) / 111.195
    dlon = km * np.sin(bearing) / (111.195 * np.cos(np.radians(lat)))
    return lat + dlat, lon + dlon


def min_distance_km(lat: np.ndarray, lon: np.ndarray, to_lat: np.ndarray, to_lon: np.ndarray) -> np.ndarray:
    """For each point, the distance to the nearest of the TO points."""
    d = haversine_km(
        np.asarray(lat)[:, None], np.asarray(lon)[:, None], np.asarray(to_lat)[None, :], np.asarray(to_lon)[None, :]
    )
    return np.asarray(d.min(axis=1))


def square_wkt(lat: float, lon: float, half_km: float) -> str:
    dlat = half_km / 111.195
    dlon = half_km / (111.195 * np.cos(np.radians(lat)))
    s, n, w, e = lat - dlat, lat + dlat, lon - dlon, lon + dlon
    ring = [(w, s), (e, s), (e, n), (w, n), (w, s)]
    return "POLYGON ((" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in ring) + "))"


def corridor_wkt(lat: float, lon: float, length_km: float, width_km: float, bearing: float) -> str:
    """A thin rectangle centred on (lat, lon) along BEARING: a stretch of road."""
    la, lo = np.array(lat), np.array(lon)
    ends = [offset(la, lo, np.array(length_km / 2), np.array(b)) for b in (bearing, bearing + np.pi)]
    corners = []
    for (elat, elon), side in zip(ends, (1, -1), strict=True):
        for s in (side, -side):
            clat, clon = offset(elat, elon, np.array(width_km / 2), np.array(bearing + s * np.pi / 2))
            corners.append((float(clon), float(clat)))
    corners.append(corners[0])
    return "POLYGON ((" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in corners) + "))"
