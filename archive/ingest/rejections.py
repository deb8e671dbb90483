"""Turn a refused container (an intake error) into a Problem for the case team (pure).

Intake raises English exceptions for logs; the case team gets a Chinese sentence naming the entry.
The DA/T 70 items: a package that cannot be opened safely fails 信息包目录结构规范性 (GD-1-13) or,
for limits and hostile content, 载体中多余文件/安全 items; we use GD-1-13 unless the error names one.
"""

from __future__ import annotations

from standards.errors import EdossierError
from standards.problems import Problem

# code → Chinese explanation (the English message is appended for precision)
_CHINESE = {
    "absolute_path": "信息包中含有绝对路径条目，存在目录穿越风险",
    "path_traversal": "信息包中含有“..”路径条目，存在目录穿越风险",
    "unsafe_name": "信息包中的文件名不合法（空段、控制字符或不允许的字符）",
    "symlink_entry": "信息包中含有符号链接，不予接收",
    "special_entry": "信息包中含有非普通文件条目（设备、管道等），不予接收",
    "duplicate_name": "信息包中存在重名条目",
    "name_collision": "信息包中存在经规范化或忽略大小写后相同的文件名",
    "encrypted_entry": "信息包中含有加密条目（DA/T 70 GD-3-8 不得加密）",
    "overlapping_entries": "ZIP 条目数据区重叠（疑似压缩炸弹）",
    "compression_ratio": "ZIP 条目压缩比超过限值（疑似压缩炸弹）",
    "file_too_large": "单个文件超过大小限值",
    "package_too_large": "信息包总字节数超过限值",
    "too_many_files": "信息包文件数超过限值",
    "path_too_long": "文件路径过长或层级过深",
    "unsupported_compression": "ZIP 条目使用了不支持的压缩方法（DA/T 70 GD-3-8 不得使用非公开压缩）",
    "size_mismatch": "ZIP 条目实际大小与头部声明不符",
    "corrupt_zip": "ZIP 文件已损坏或被截断",
    "not_a_package": "提交的文件既不是 ZIP 也不是文件夹",
    "empty_package": "信息包为空",
    "crc_mismatch": "ZIP 条目校验值（CRC）不符，数据已损坏",
}


def problem_from_error(error: EdossierError) -> Problem:
    """A Problem for a package-level refusal raised while opening the container."""
    chinese = _CHINESE.get(error.code, "信息包无法安全读取")
    return Problem(
        code=error.code,
        item=error.item or "GD-1-13",
        path=error.path,
        line=None,
        message=f"{chinese}：{error.message}",
    )
