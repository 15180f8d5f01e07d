"""List kinds, the fields reconcile reads, and the header names officers use for them."""

from __future__ import annotations

from enum import StrEnum


class ListKind(StrEnum):
    REGISTER = "register"
    BIRTH = "birth"
    DEATH = "death"
    VACCINATION = "vaccination"
    WELFARE = "welfare"
    MEMBERSHIP = "membership"


KIND_LABELS = {
    ListKind.REGISTER: "Dữ liệu dân cư",
    ListKind.BIRTH: "Khai sinh",
    ListKind.DEATH: "Khai tử",
    ListKind.VACCINATION: "Tiêm chủng",
    ListKind.WELFARE: "Bảo trợ xã hội",
    ListKind.MEMBERSHIP: "Hội viên đoàn thể",
}

# Field → header spellings, written folded (no diacritics, lower case, single spaces).
# Only the columns the job needs are kept (personal-data minimisation, domain.md §5).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "row_number": ("stt", "so tt", "so thu tu", "tt"),
    "resident_code": ("ma nhan khau", "ma cong dan", "ma nk", "ma dan cu"),
    "full_name": (
        "ho va ten",
        "ho ten",
        "ho va ten khai sinh",
        "ho ten khai sinh",
        "ho va ten tre",
        "ho ten tre",
        "ho va ten nguoi chet",
        "ho ten nguoi chet",
        "ho va ten nguoi da mat",
        "ho ten nguoi mat",
        "ho va ten doi tuong",
        "ho ten doi tuong",
        "ho va ten hoi vien",
        "ho ten hoi vien",
        "ho va ten doan vien",
        "ho ten doan vien",
        "ho chu dem ten",
        "ho chu dem va ten",
        "ho va chu dem ten",
        "ten",
    ),
    "birth_date": (
        "ngay sinh",
        "ngay thang nam sinh",
        "ngay, thang, nam sinh",
        "nam sinh",
        "sinh ngay",
        "ngay/thang/nam sinh",
        "ngay sinh thang sinh nam sinh",
        "ns",
    ),
    "sex": ("gioi tinh", "gt", "nam/nu", "phai"),
    "personal_id": (
        "so dinh danh",
        "so dinh danh ca nhan",
        "ma dinh danh",
        "so cccd",
        "cccd",
        "so cccd/cmnd",
        "cccd/cmnd",
        "so cmnd/cccd",
        "cmnd/cccd",
        "so cmnd",
        "cmnd",
        "so can cuoc",
        "so can cuoc cong dan",
        "so cccd/dinh danh",
        "so ddcn",
        "ma so dinh danh",
        "can cuoc",
    ),
    "insurance_number": (
        "so the bhyt",
        "ma the bhyt",
        "bhyt",
        "so bhxh",
        "ma so bhxh",
        "so bhyt",
        "so so bhxh",
        "ma bhxh",
        "bhxh",
        "the bhyt",
    ),
    "hamlet": (
        "thon",
        "xom",
        "thon/xom",
        "thon, xom",
        "thon xom",
        "ap",
        "to dan pho",
        "noi cu tru",
        "noi thuong tru",
        "dia chi",
        "noi o hien nay",
        "chi doan",
        "chi hoi",
        "dia chi thuong tru",
        "cho o hien nay",
        "cho o",
        "tdp",
        "khu pho",
        "ban",
        "to",
    ),
    # the commune (since 2025 a merged commune of a province): what makes "Thôn 1" one place
    "commune": (
        "xa",
        "xa/phuong",
        "phuong/xa",
        "xa, phuong",
        "xa phuong",
        "xa/phuong/thi tran",
        "xa/phuong/dac khu",
        "phuong",
        "ten xa",
        "don vi hanh chinh cap xa",
    ),
    "status": ("tinh trang", "trang thai", "tinh trang cu tru"),
    "death_date": (
        "ngay chet",
        "ngay mat",
        "ngay tu",
        "ngay thang nam chet",
        "ngay tu vong",
        "ngay thang nam mat",
        "ngay thang nam tu vong",
        "thoi diem chet",
        "thoi gian chet",
        "ngay chet/mat",
    ),
    # Register columns: evidence that a file is the register, and the household for duplicates.
    "household": (
        "ma ho",
        "so ho khau",
        "ma so ho",
        "ma ho gia dinh",
        "so ho",
        "ma so ho gia dinh",
    ),
    "relation": ("quan he voi chu ho", "quan he chu ho", "quan he"),
}

# Fields each kind must carry to be reconciled at all.
REQUIRED_FIELDS: dict[ListKind, tuple[str, ...]] = {
    ListKind.REGISTER: ("full_name", "birth_date"),
    ListKind.BIRTH: ("full_name", "birth_date"),
    ListKind.DEATH: ("full_name",),
    ListKind.VACCINATION: ("full_name", "birth_date"),
    ListKind.WELFARE: ("full_name",),
    ListKind.MEMBERSHIP: ("full_name",),
}

FIELD_LABELS = {
    "row_number": "STT",
    "resident_code": "Mã nhân khẩu",
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "personal_id": "Số định danh cá nhân",
    "insurance_number": "Số thẻ BHYT",
    "hamlet": "Thôn/xóm",
    "commune": "Xã/phường",
    "status": "Tình trạng",
    "death_date": "Ngày chết",
    "household": "Mã hộ",
    "relation": "Quan hệ với chủ hộ",
}

# Register status values (folded) that mean the resident is dead.
DECEASED_STATUSES = ("da chet", "chet", "da mat", "mat", "tu vong", "da tu vong", "xoa - chet")
