"""Folding of header cells and enum words, so that matching survives how people type."""

from __future__ import annotations

import re
import unicodedata

_UNIT_IN_BRACKETS = re.compile(r"[(\[]([^)\]]*)[)\]]")
_SPACES = re.compile(r"[\s_\-·•.:：]+")

# Traditional characters of the contract's headers and words, and their simplified forms,
# so a Big5 or Taiwanese export (`銷售單號`, `煤礦`) matches like a mainland one. Only
# characters that are never simplified text themselves; the data in cells stays as written.
TRADITIONAL = dict(
    zip(
        "業買產會關農淨別區單廠縣發變臺號圍場儲層屬庫廢開棄徑態戶執護數時電盤礦鑛碼種稱類緯線經統編"
        "範營規許證貨購貿車輸達運進遠選鐵銷閉間頓鄉點狀錶裝採頭註萬噸",
        "业买产会关农净别区单厂县发变台号围场储层属库废开弃径态户执护数时电盘矿矿码种称类纬线经统编"
        "范营规许证货购贸车输达运进远选铁销闭间顿乡点状表装采头注万吨",
        strict=True,
    )
)
_SIMPLIFIED = str.maketrans(TRADITIONAL)


def fold(text: str) -> str:
    """NFKC (full-width → half-width), simplified characters, lower case, no spaces or separators."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text).translate(_SIMPLIFIED)).lower()


def split_header(cell: str) -> tuple[str, str | None]:
    """`' 数量（万吨） '` → (`'数量'`, `'万吨'`): the folded name and the unit in brackets, if any."""
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    unit = None
    m = _UNIT_IN_BRACKETS.search(text)
    if m:
        unit = fold(m.group(1)) or None
        text = _UNIT_IN_BRACKETS.sub("", text)
    return fold(text), unit
