"""Data tables for the sample dossier: courts, case types, people, document plans and sentences.

Everything here is plain data (tuples of small frozen values) so the generator can pick from it with
a seeded :class:`random.Random`. Court codes follow 《关于人民法院案件案号的若干规定》 (法〔2015〕137号):
basic courts use the province abbreviation + 4 digits of the administrative division, intermediate
courts + 2 digits. Nothing here renders or writes files; :mod:`archive.sample.generator` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from standards.court_package import MAIN_VOLUME, SUB_VOLUME

PERMANENT = "永久"
LONG = "长期"
SHORT = "短期"


@dataclass(frozen=True)
class Court:
    """One court: 法院代字 (e.g. 粤0306) and its full name."""

    code: str
    name: str
    level: str  # "basic" | "intermediate"


# 法院代字: province abbreviation + division digits (案号规定 art. 4).
COURTS: tuple[Court, ...] = (
    Court("粤0306", "广东省深圳市宝安区人民法院", "basic"),
    Court("粤0305", "广东省深圳市南山区人民法院", "basic"),
    Court("京0105", "北京市朝阳区人民法院", "basic"),
    Court("沪0115", "上海市浦东新区人民法院", "basic"),
    Court("浙0106", "浙江省杭州市西湖区人民法院", "basic"),
    Court("川0107", "四川省成都市武侯区人民法院", "basic"),
    Court("苏0102", "江苏省南京市玄武区人民法院", "basic"),
    Court("粤03", "广东省深圳市中级人民法院", "intermediate"),
    Court("沪01", "上海市第一中级人民法院", "intermediate"),
    Court("浙01", "浙江省杭州市中级人民法院", "intermediate"),
    Court("川01", "四川省成都市中级人民法院", "intermediate"),
    Court("苏01", "江苏省南京市中级人民法院", "intermediate"),
)


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document in a dossier plan.

    ``author`` is a role resolved by the generator: ``court``, ``plaintiff``, ``defendant``,
    ``prosecutor``, ``applicant``, ``respondent``, ``judge`` or ``clerk``. ``paper`` marks documents that
    arrive on paper and are digitised (纸质原件数字化). ``rank`` orders the kinds by how essential they
    are; small samples keep the lowest ranks.
    """

    title: str
    volume: str
    author: str
    paper: bool
    retention: str
    rank: int
    pages: tuple[int, int] = (3, 6)


@dataclass(frozen=True)
class CaseType:
    """A 类型代字 with its 案件类型, court level, department and document plan (in filing order)."""

    type_code: str  # 类型代字, e.g. 民初
    case_type: str  # 案件类型 (code table case_types.csv)
    court_level: str
    departments: tuple[str, ...]
    parties: tuple[str, str]  # role names of the two sides, e.g. ("原告", "被告")
    plan: tuple[DocumentKind, ...]
    extras: tuple[DocumentKind, ...]  # cycled to reach a larger document count (2 electronic : 1 paper)
    causes: tuple[str, ...]  # 案由


def _k(
    title: str,
    volume: str,
    author: str,
    paper: bool,
    retention: str,
    rank: int,
    pages: tuple[int, int] = (3, 6),
) -> DocumentKind:
    return DocumentKind(title, volume, author, paper, retention, rank, pages)


M, S = MAIN_VOLUME, SUB_VOLUME

# 副卷 (internal volume): deliberation records, reports, signed drafts
# (《人民法院诉讼文书立卷归档办法》; standards-reference §11).
_SUB_TRIAL = (
    _k("阅卷笔录", S, "judge", False, LONG, 9, (3, 5)),
    _k("审理报告", S, "judge", False, PERMANENT, 4, (4, 8)),
    _k("合议庭评议笔录", S, "judge", False, PERMANENT, 5, (3, 5)),
    _k("审判委员会讨论记录", S, "court", False, PERMANENT, 11, (3, 4)),
    _k("判决书签发稿", S, "judge", False, PERMANENT, 6, (4, 8)),
)

CASE_TYPES: tuple[CaseType, ...] = (
    CaseType(
        "民初",
        "民事",
        "basic",
        ("民事审判第一庭", "民事审判第二庭", "速裁庭"),
        ("原告", "被告"),
        (
            _k("起诉状", M, "plaintiff", True, LONG, 0, (2, 4)),
            _k("受理案件通知书", M, "court", False, LONG, 7, (3, 3)),
            _k("应诉通知书", M, "court", False, LONG, 8, (3, 3)),
            _k("举证通知书", M, "court", False, SHORT, 10, (3, 4)),
            _k("答辩状", M, "defendant", True, LONG, 3, (2, 3)),
            _k("证据材料", M, "plaintiff", True, LONG, 2, (1, 4)),
            _k("开庭传票", M, "court", False, SHORT, 12, (3, 3)),
            _k("庭审笔录", M, "clerk", False, LONG, 1, (4, 8)),
            _k("民事判决书", M, "court", False, PERMANENT, 0, (4, 8)),
            _k("送达回证", M, "court", True, SHORT, 2, (1, 1)),
            *_SUB_TRIAL,
        ),
        (
            _k("询问笔录", M, "clerk", False, LONG, 99, (3, 5)),
            _k("证据材料", M, "plaintiff", True, LONG, 99, (1, 3)),
            _k("代理词", M, "plaintiff", False, LONG, 99, (3, 5)),
        ),
        ("买卖合同纠纷", "民间借贷纠纷", "房屋租赁合同纠纷", "劳动争议", "机动车交通事故责任纠纷"),
    ),
    CaseType(
        "民终",
        "民事",
        "intermediate",
        ("民事审判第一庭", "民事审判第二庭"),
        ("上诉人", "被上诉人"),
        (
            _k("上诉状", M, "plaintiff", True, LONG, 0, (2, 4)),
            _k("一审民事判决书", M, "court", False, LONG, 3, (4, 8)),
            _k("受理上诉案件通知书", M, "court", False, LONG, 7, (3, 3)),
            _k("答辩状", M, "defendant", True, LONG, 4, (2, 3)),
            _k("证据材料", M, "plaintiff", True, LONG, 2, (1, 4)),
            _k("询问笔录", M, "clerk", False, LONG, 1, (3, 6)),
            _k("民事判决书", M, "court", False, PERMANENT, 0, (4, 8)),
            _k("送达回证", M, "court", True, SHORT, 2, (1, 1)),
            *_SUB_TRIAL,
        ),
        (
            _k("谈话笔录", M, "clerk", False, LONG, 99, (3, 5)),
            _k("证据材料", M, "plaintiff", True, LONG, 99, (1, 3)),
            _k("代理词", M, "plaintiff", False, LONG, 99, (3, 5)),
        ),
        ("买卖合同纠纷", "民间借贷纠纷", "建设工程施工合同纠纷", "劳动争议"),
    ),
    CaseType(
        "刑初",
        "刑事",
        "basic",
        ("刑事审判庭",),
        ("公诉机关", "被告人"),
        (
            _k("起诉书", M, "prosecutor", True, PERMANENT, 0, (2, 4)),
            _k("受理案件登记表", M, "court", False, LONG, 8, (3, 3)),
            _k("送达起诉书副本笔录", M, "clerk", False, LONG, 9, (3, 3)),
            _k("委托辩护手续", M, "defendant", True, LONG, 7, (1, 2)),
            _k("证据材料", M, "prosecutor", True, LONG, 4, (1, 4)),
            _k("开庭公告", M, "court", False, SHORT, 10, (3, 3)),
            _k("庭审笔录", M, "clerk", False, PERMANENT, 1, (4, 8)),
            _k("辩护词", M, "defendant", False, LONG, 3, (3, 5)),
            _k("刑事判决书", M, "court", False, PERMANENT, 0, (4, 8)),
            _k("送达回证", M, "court", True, SHORT, 2, (1, 1)),
            *_SUB_TRIAL,
        ),
        (
            _k("讯问笔录", M, "clerk", False, PERMANENT, 99, (3, 5)),
            _k("证据材料", M, "prosecutor", True, LONG, 99, (1, 3)),
            _k("证人证言", M, "clerk", False, LONG, 99, (3, 4)),
        ),
        ("盗窃罪", "危险驾驶罪", "诈骗罪", "故意伤害罪"),
    ),
    CaseType(
        "行初",
        "行政",
        "basic",
        ("行政审判庭",),
        ("原告", "被告"),
        (
            _k("行政起诉状", M, "plaintiff", True, LONG, 0, (2, 4)),
            _k("受理案件通知书", M, "court", False, LONG, 7, (3, 3)),
            _k("应诉通知书", M, "court", False, LONG, 8, (3, 3)),
            _k("行政答辩状", M, "defendant", False, LONG, 3, (3, 4)),
            _k("被诉行政行为证据", M, "defendant", True, LONG, 2, (1, 4)),
            _k("庭审笔录", M, "clerk", False, LONG, 1, (4, 8)),
            _k("行政判决书", M, "court", False, PERMANENT, 0, (4, 8)),
            _k("送达回证", M, "court", True, SHORT, 2, (1, 1)),
            *_SUB_TRIAL,
        ),
        (
            _k("询问笔录", M, "clerk", False, LONG, 99, (3, 5)),
            _k("证据材料", M, "plaintiff", True, LONG, 99, (1, 3)),
            _k("代理词", M, "plaintiff", False, LONG, 99, (3, 5)),
        ),
        ("行政处罚", "行政许可", "政府信息公开", "工伤认定"),
    ),
    CaseType(
        "执",
        "执行",
        "basic",
        ("执行局", "执行实施庭"),
        ("申请执行人", "被执行人"),
        (
            _k("强制执行申请书", M, "plaintiff", True, LONG, 0, (2, 3)),
            _k("执行依据", M, "court", False, LONG, 1, (3, 6)),
            _k("执行通知书", M, "court", False, LONG, 3, (3, 3)),
            _k("报告财产令", M, "court", False, SHORT, 7, (3, 3)),
            _k("财产查控记录", M, "clerk", False, LONG, 4, (3, 5)),
            _k("执行笔录", M, "clerk", False, LONG, 2, (3, 6)),
            _k("执行裁定书", M, "court", False, PERMANENT, 0, (3, 5)),
            _k("送达回证", M, "court", True, SHORT, 2, (1, 1)),
            _k("执行审批表", S, "judge", False, LONG, 5, (3, 3)),
            _k("合议庭评议笔录", S, "judge", False, PERMANENT, 6, (3, 4)),
            _k("结案审批表", S, "judge", False, LONG, 9, (3, 3)),
        ),
        (
            _k("执行笔录", M, "clerk", False, LONG, 99, (3, 5)),
            _k("银行账户查询回执", M, "court", True, SHORT, 99, (1, 2)),
            _k("工作记录", M, "clerk", False, LONG, 99, (3, 4)),
        ),
        ("民间借贷纠纷", "买卖合同纠纷", "劳动争议"),
    ),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥建国建华志强海燕春梅晓东文博思远子涵浩然"
)
COMPANIES = (
    "深圳市华信贸易有限公司",
    "上海恒远建设工程有限公司",
    "杭州云启科技有限公司",
    "成都锦程物流有限公司",
    "南京宁泰置业有限公司",
    "北京中和餐饮管理有限公司",
)
AGENCIES = ("市场监督管理局", "人力资源和社会保障局", "自然资源局", "公安分局", "城市管理和综合执法局")
CHINESE_DIGITS = "〇一二三四五六七八九"

# Sentence templates for the body of electronic originals. Placeholders are filled by the generator.
SENTENCES: tuple[str, ...] = (
    "{a}与{b}{cause}一案，本院于{filed}立案后，依法适用{procedure}公开开庭进行了审理。",
    "{a}向本院提出诉讼请求：一、判令{b}支付款项人民币{amount}元及相应利息；二、本案诉讼费用由{b}负担。",
    "事实和理由：{a}与{b}于{signed}签订书面协议，约定双方的权利义务，{a}已按约履行了全部义务。",
    "{b}辩称，{a}所主张的事实与实际情况不符，相关款项已部分清偿，请求法院依法驳回其不合理的诉讼请求。",
    "本院经审理认定事实如下：双方当事人围绕诉讼请求依法提交了证据，本院组织当事人进行了证据交换和质证。",
    "对当事人无异议的证据，本院予以确认并在卷佐证；对有争议的证据，本院结合全案事实依法认定。",
    "审判人员告知当事人有关的诉讼权利义务，当事人均表示已清楚，不申请审判人员回避。",
    "本院认为，当事人对自己提出的主张，有责任提供证据。{a}提交的证据能够相互印证，本院予以采信。",
    "{b}未能在举证期限内提交足以反驳的证据，应当承担举证不能的不利后果。",
    "依照《中华人民共和国民事诉讼法》及相关司法解释的规定，本院依法作出处理。",
    "如不服本判决，可以在判决书送达之日起十五日内，向本院递交上诉状，并按对方当事人的人数提出副本。",
    "书记员当庭核对了当事人及其诉讼代理人的身份，各方均无异议，庭审依法进行。",
    "审判长宣布休庭，合议庭将在庭后进行评议，评议结果另行宣告。",
    "合议庭评议认为，本案事实清楚，证据确实、充分，适用法律正确，程序合法。",
    "经查，{b}名下银行账户及不动产情况已通过网络执行查控系统依法查询，查询结果附卷。",
    "承办人意见：建议依法作出判决，并将判决书送达各方当事人。",
    "以上笔录经当事人阅读核对无误后签名确认。",
    "本院已依法向各方当事人送达了相关诉讼文书，送达程序合法有效。",
)
