"""Turn a refused container (an intake error) into a Problem for the case team (pure).

Intake raises English exceptions for logs; the case team gets a Chinese sentence naming the entry.
The DA/T 70 item comes from the error itself (intake assigns GD-1-13, GD-3-8, GD-2-11 or GD-4-7).
"""

from __future__ import annotations

from standards.errors import EdossierError
from standards.problems import Problem

# code → Chinese explanation (the English message is appended for precision)
_CHINESE = {
    "source_not_found": "提交的信息包不存在",
    "source_unreadable": "提交的信息包无法读取",
    "empty_source": "提交的文件为空（0 字节）",
    "not_a_zip": "提交的文件既不是 ZIP 压缩包也不是文件夹",
    "corrupt_zip": "ZIP 文件已损坏或被截断",
    "empty_package": "信息包中没有任何文件",
    "source_changed": "读取过程中信息包内容发生了变化，请在提交完成前不要修改文件",
    "absolute_path": "信息包中含有绝对路径条目，存在目录穿越风险",
    "parent_segment": "信息包中含有“..”路径条目，存在目录穿越风险",
    "empty_segment": "信息包中的路径含有空段（连续的分隔符）",
    "dot_segment": "信息包中的路径含有“.”或仅由点和空格组成的段",
    "control_character_in_name": "信息包中的文件名含有控制字符",
    "undecodable_name": "信息包中的文件名无法按 UTF-8 或 GB18030 解码",
    "duplicate_name": "信息包中存在重名条目",
    "normalization_collision": "信息包中存在经 Unicode 规范化后相同的文件名",
    "case_collision": "信息包中存在仅大小写不同的文件名",
    "file_directory_collision": "信息包中同一名称既是文件又是文件夹",
    "symlink_entry": "信息包中含有符号链接，不予接收",
    "special_file_entry": "信息包中含有非普通文件条目（设备、管道等），不予接收",
    "encrypted_entry": "信息包中含有加密条目（DA/T 70 GD-3-8：不得加密）",
    "unsupported_compression": "ZIP 条目使用了不支持的压缩方法（DA/T 70 GD-3-8：不得使用非公开压缩）",
    "overlapping_entries": "ZIP 条目数据区相互重叠（疑似压缩炸弹）",
    "entry_beyond_central_directory": "ZIP 条目数据超出了中央目录的位置（结构被篡改）",
    "local_header_mismatch": "ZIP 条目的本地文件头与中央目录记录不一致",
    "too_many_files": "信息包文件数超过限值",
    "file_too_large": "单个文件超过大小限值",
    "package_too_large": "信息包总字节数超过限值",
    "path_too_long": "文件路径过长",
    "path_too_deep": "文件路径层级过深",
    "compression_ratio_exceeded": "ZIP 条目压缩比超过限值（疑似压缩炸弹）",
    "size_mismatch": "ZIP 条目实际大小与头部声明不符",
    "crc_mismatch": "ZIP 条目校验值（CRC-32）不符，数据已损坏",
}


def problem_from_error(error: EdossierError) -> Problem:
    """A Problem for a package-level refusal raised while opening the container."""
    chinese = _CHINESE.get(error.code, "信息包无法安全读取")
    return Problem(
        code=error.code,
        item=error.item,
        path=error.path,
        line=None,
        message=f"{chinese}：{error.message}",
    )
