"""The demo catalog: well-known real titles with their true metadata, plus generated plausible
Chinese and English titles (deterministic: title number ``i`` is always the same book).

Real titles carry their real ISBN where we are sure of it; the others get a valid ISBN-13 in the
978-7 range, as do all generated titles (``97873`` + a 7-digit serial). List prices of real
titles are those printed on the edition named, or a close estimate.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from xinyue.catalog.search.isbn import check_digit_13


@dataclass(frozen=True)
class RealTitle:
    title: str
    authors: tuple[str, ...]
    publisher: str
    year: int
    category: str
    price: str  # yuan
    isbn: str = ""  # "" → a generated 978-7 ISBN
    subtitle: str = ""
    clc: str = ""
    subjects: str = ""
    pages: int | None = None
    summary: str = ""


REAL_TITLES: list[RealTitle] = [
    RealTitle("围城", ("钱锺书",), "人民文学出版社", 1991, "中国现当代小说", "39.00", "9787020024759", clc="I246.5", subjects="长篇小说; 中国; 现代", pages=359, summary="钱锺书唯一的长篇小说，以方鸿渐的经历写尽知识分子的婚姻与人生困境。"),
    RealTitle("活着", ("余华",), "作家出版社", 2012, "中国现当代小说", "20.00", "9787506365437", clc="I247.57", subjects="长篇小说; 中国; 当代", pages=191, summary="福贵的一生：讲述人如何去承受巨大的苦难。"),
    RealTitle("三体", ("刘慈欣",), "重庆出版社", 2008, "科幻", "23.00", "9787536692930", clc="I247.55", subjects="科学幻想小说; 长篇小说", pages=302, summary="文化大革命中的一次神秘决定，让人类文明第一次与三体文明接触。"),
    RealTitle("三体Ⅱ", ("刘慈欣",), "重庆出版社", 2008, "科幻", "32.00", "9787536693968", subtitle="黑暗森林", clc="I247.55", subjects="科学幻想小说; 长篇小说", pages=470),
    RealTitle("三体Ⅲ", ("刘慈欣",), "重庆出版社", 2010, "科幻", "38.00", "9787229030933", subtitle="死神永生", clc="I247.55", subjects="科学幻想小说; 长篇小说", pages=513),
    RealTitle("白夜行", ("东野圭吾", "刘姿君"), "南海出版公司", 2013, "侦探/悬疑/推理", "39.50", "9787544258609", clc="I313.45", subjects="推理小说; 长篇小说; 日本; 现代", pages=467, summary="一桩悬而未决的命案，两个少年少女十九年的命运纠缠。"),
    RealTitle("嫌疑人X的献身", ("东野圭吾", "刘子倩"), "南海出版公司", 2008, "侦探/悬疑/推理", "28.00", "9787544241694", clc="I313.45", subjects="推理小说; 长篇小说; 日本; 现代", pages=251, summary="天才数学家石神为心爱的邻居设计的完美不在场证明。"),
    RealTitle("解忧杂货店", ("东野圭吾", "李盈春"), "南海出版公司", 2014, "外国小说", "39.50", "9787544270878", clc="I313.45", subjects="长篇小说; 日本; 现代", pages=291, summary="僻静街道旁的杂货店，只要写下烦恼投进卷帘门的投信口，第二天就会在店后的牛奶箱里得到回答。"),
    RealTitle("恶意", ("东野圭吾", "娄美莲"), "南海出版公司", 2016, "侦探/悬疑/推理", "39.50", clc="I313.45", subjects="推理小说; 长篇小说; 日本"),
    RealTitle("放学后", ("东野圭吾", "匡匡"), "南海出版公司", 2013, "侦探/悬疑/推理", "29.50", clc="I313.45", subjects="推理小说; 长篇小说; 日本"),
    RealTitle("Python编程", ("埃里克·马瑟斯", "袁国忠"), "人民邮电出版社", 2016, "编程语言", "89.00", "9787115428028", subtitle="从入门到实践", clc="TP311.561", subjects="软件工具; 程序设计", pages=459),
    RealTitle("平凡的世界", ("路遥",), "北京十月文艺出版社", 2012, "中国现当代小说", "108.00", "9787530212004", clc="I247.57", subjects="长篇小说; 中国; 当代"),
    RealTitle("百年孤独", ("加西亚·马尔克斯", "范晔"), "南海出版公司", 2011, "外国小说", "39.50", "9787544253994", clc="I775.45", subjects="长篇小说; 哥伦比亚; 现代", pages=360),
    RealTitle("追风筝的人", ("卡勒德·胡赛尼", "李继宏"), "上海人民出版社", 2006, "外国小说", "29.00", "9787208061644", clc="I712.45", subjects="长篇小说; 美国; 现代", pages=362),
    RealTitle("人类简史", ("尤瓦尔·赫拉利", "林俊宏"), "中信出版社", 2014, "世界史", "68.00", "9787508647357", subtitle="从动物到上帝", clc="K02", subjects="人类学; 历史", pages=440),
    RealTitle("红楼梦", ("曹雪芹", "高鹗"), "人民文学出版社", 1996, "中国古典小说", "59.70", "9787020002207", clc="I242.47", subjects="章回小说; 中国; 清代"),
    RealTitle("万历十五年", ("黄仁宇",), "中华书局", 2006, "中国史", "18.00", "9787101052039", clc="K248.07", subjects="中国历史; 明代"),
    RealTitle("算法导论", ("托马斯·科尔曼", "殷建平"), "机械工业出版社", 2013, "计算机与互联网", "128.00", "9787111407010", subtitle="原书第3版", clc="TP301.6", subjects="电子计算机; 算法理论"),
    RealTitle("深入理解计算机系统", ("兰德尔·布莱恩特", "大卫·奥哈拉伦", "龚奕利"), "机械工业出版社", 2016, "操作系统", "139.00", "9787111544937", subtitle="原书第3版", clc="TP303", subjects="计算机系统"),
    RealTitle("挪威的森林", ("村上春树", "林少华"), "上海译文出版社", 2007, "外国小说", "25.00", "9787532742929", clc="I313.45", subjects="长篇小说; 日本; 现代"),
    RealTitle("时间简史", ("史蒂芬·霍金", "许明贤", "吴忠超"), "湖南科学技术出版社", 2010, "天文学普及", "45.00", "9787535732309", clc="P159-49", subjects="宇宙学; 普及读物"),
    RealTitle("原则", ("瑞·达利欧", "刘波", "綦相"), "中信出版社", 2018, "企业管理", "98.00", "9787508684031", clc="B848.4-49", subjects="成功心理; 通俗读物"),
    RealTitle("流浪地球", ("刘慈欣",), "中国华侨出版社", 2019, "科幻", "45.00", clc="I247.7", subjects="科学幻想小说; 中篇小说; 作品集"),
    RealTitle("球状闪电", ("刘慈欣",), "四川科学技术出版社", 2016, "科幻", "38.00", clc="I247.55", subjects="科学幻想小说; 长篇小说"),
    RealTitle("许三观卖血记", ("余华",), "作家出版社", 2012, "中国现当代小说", "25.00", clc="I247.57", subjects="长篇小说; 中国; 当代"),
    RealTitle("乡土中国", ("费孝通",), "北京大学出版社", 2012, "社会学", "24.00", clc="C912.82", subjects="农村社会学; 中国"),
    RealTitle("明朝那些事儿", ("当年明月",), "北京联合出版公司", 2017, "历史普及读物", "358.00", clc="K248.09", subjects="中国历史; 明代; 通俗读物"),
    RealTitle("骆驼祥子", ("老舍",), "人民文学出版社", 2008, "中国现当代小说", "18.00", clc="I246.5", subjects="长篇小说; 中国; 现代"),
    RealTitle("朝花夕拾", ("鲁迅",), "人民文学出版社", 2006, "散文/随笔/书信", "12.00", clc="I210.4", subjects="散文集; 中国; 现代"),
    RealTitle("呐喊", ("鲁迅",), "人民文学出版社", 2006, "中国现当代小说", "14.00", clc="I210.6", subjects="短篇小说; 小说集; 中国; 现代"),
    RealTitle("边城", ("沈从文",), "北岳文艺出版社", 2002, "中国现当代小说", "20.00", clc="I246.4", subjects="中篇小说; 小说集; 中国; 现代"),
    RealTitle("文化苦旅", ("余秋雨",), "长江文艺出版社", 2014, "散文/随笔/书信", "39.00", clc="I267", subjects="散文集; 中国; 当代"),
    RealTitle("我们仨", ("杨绛",), "生活·读书·新知三联书店", 2012, "散文/随笔/书信", "23.00", clc="I266", subjects="散文集; 回忆录; 中国; 当代"),
    RealTitle("目送", ("龙应台",), "生活·读书·新知三联书店", 2009, "散文/随笔/书信", "39.00", clc="I267", subjects="散文集; 中国; 当代"),
    RealTitle("人间词话", ("王国维",), "中华书局", 2016, "文学评论", "26.00", clc="I207.23", subjects="词学; 中国; 近代"),
    RealTitle("唐诗三百首", ("蘅塘退士",), "中华书局", 2016, "诗歌", "32.00", clc="I222.742", subjects="唐诗; 诗集"),
    RealTitle("论语译注", ("杨伯峻",), "中华书局", 2006, "经部", "20.00", clc="B222.2", subjects="儒家; 论语; 注释"),
    RealTitle("史记", ("司马迁",), "中华书局", 2014, "史部", "320.00", clc="K204.2", subjects="中国历史; 古代; 纪传体"),
    RealTitle("中国哲学简史", ("冯友兰", "赵复三"), "新世界出版社", 2004, "中国哲学", "38.00", clc="B2", subjects="哲学史; 中国"),
    RealTitle("苏东坡传", ("林语堂", "张振玉"), "湖南文艺出版社", 2018, "文化名人传记", "42.00", clc="K825.6", subjects="苏轼; 传记"),
    RealTitle("枪炮、病菌与钢铁", ("贾雷德·戴蒙德", "谢延光"), "上海译文出版社", 2016, "世界史", "55.00", subtitle="人类社会的命运", clc="K02", subjects="社会发展史; 世界"),
    RealTitle("经济学原理", ("曼昆", "梁小民", "梁砾"), "北京大学出版社", 2015, "经济学理论", "128.00", subtitle="第7版", clc="F0", subjects="经济学"),
    RealTitle("小王子", ("圣埃克苏佩里", "周克希"), "上海译文出版社", 2018, "儿童文学", "30.00", clc="I565.88", subjects="童话; 法国; 现代"),
    RealTitle("正面管教", ("简·尼尔森", "玉冰"), "北京联合出版公司", 2016, "家庭教育", "38.00", clc="G78", subjects="家庭教育"),
    RealTitle("黄帝内经", ("姚春鹏",), "中华书局", 2010, "中医", "48.00", clc="R221", subjects="内经; 注释"),
    RealTitle("中国烹饪百科全书", ("中国烹饪百科全书编委会",), "中国大百科全书出版社", 1992, "中国菜系", "120.00", clc="TS972-61", subjects="烹饪; 百科全书; 中国"),
    RealTitle("美国纽约摄影学院摄影教材", ("美国纽约摄影学院",), "中国摄影出版社", 2010, "摄影技术", "128.00", clc="J41", subjects="摄影技术; 教材"),
    RealTitle("Clean Code", ("Robert C. Martin",), "Prentice Hall", 2008, "软件工程", "420.00", "9780132350884", subtitle="A Handbook of Agile Software Craftsmanship", clc="TP311.5", subjects="Agile software development; Computer software; Quality control"),
    RealTitle("The C Programming Language", ("Brian W. Kernighan", "Dennis M. Ritchie"), "Prentice Hall", 1988, "编程语言", "460.00", "9780131103627", clc="TP312", subjects="C (Computer program language)"),
    RealTitle("Structure and Interpretation of Computer Programs", ("Harold Abelson", "Gerald Jay Sussman"), "MIT Press", 1996, "编程语言", "560.00", "9780262510875", clc="TP311.1", subjects="Computer programming; LISP (Computer program language)"),
    RealTitle("Design Patterns", ("Erich Gamma", "Richard Helm", "Ralph Johnson", "John Vlissides"), "Addison-Wesley", 1994, "软件工程", "480.00", "9780201633610", subtitle="Elements of Reusable Object-Oriented Software", clc="TP311.5", subjects="Object-oriented programming; Software patterns"),
    RealTitle("Fluent Python", ("Luciano Ramalho",), "O'Reilly Media", 2022, "编程语言", "560.00", "9781492056355", subtitle="Clear, Concise, and Effective Programming", clc="TP312", subjects="Python (Computer program language)"),
]  # fmt: skip

REAL_PREFIX = "978780"  # + 6 digits for real titles whose ISBN we are not sure of
GENERATED_PREFIX = "97873"  # + 7 digits: generated title number i


def isbn_for_real(index: int) -> str:
    first12 = f"{REAL_PREFIX}{index:06d}"
    return first12 + check_digit_13(first12)


def isbn_for_generated(i: int) -> str:
    first12 = f"{GENERATED_PREFIX}{i:07d}"
    return first12 + check_digit_13(first12)


# --- generated titles -------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "慕容", "令狐", "皇甫"]
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超华慧红平刚晓文博宇浩思雨欣嘉子涵一梓晨轩睿然泽佳怡安诗雅清宁远鹏海峰俊辉斌健春秋冬梅兰竹菊正国建志永德立新云松林山川岩石"
FOREIGN_GIVEN = [
    "约翰",
    "大卫",
    "玛丽",
    "安娜",
    "彼得",
    "托马斯",
    "伊丽莎白",
    "詹姆斯",
    "罗伯特",
    "迈克尔",
    "莎拉",
    "艾米莉",
    "丹尼尔",
    "路易斯",
    "卡尔",
    "汉斯",
    "奥利维亚",
    "本杰明",
]
FOREIGN_FAMILY = [
    "史密斯",
    "布朗",
    "威尔逊",
    "泰勒",
    "安德森",
    "怀特",
    "哈里斯",
    "马丁",
    "汤普森",
    "克拉克",
    "刘易斯",
    "沃克",
    "霍尔",
    "艾伦",
    "杨",
    "金",
    "赖特",
    "斯科特",
    "格林",
    "贝克",
]
JAPANESE_FAMILY = [
    "渡边",
    "山田",
    "佐藤",
    "铃木",
    "高桥",
    "田中",
    "伊藤",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山本",
    "松本",
    "井上",
    "木村",
    "清水",
]
JAPANESE_GIVEN = [
    "健一",
    "美雪",
    "直树",
    "由美",
    "浩二",
    "真由美",
    "大辅",
    "优子",
    "翔太",
    "彩香",
    "拓也",
    "明日香",
]

PUBLISHERS_GENERAL = [
    "人民出版社", "商务印书馆", "中华书局", "生活·读书·新知三联书店", "人民文学出版社", "上海译文出版社",
    "作家出版社", "译林出版社", "北京大学出版社", "清华大学出版社", "浙江大学出版社", "复旦大学出版社",
    "中信出版社", "浙江人民出版社", "浙江文艺出版社", "浙江教育出版社", "浙江科学技术出版社",
    "浙江古籍出版社", "浙江摄影出版社", "浙江少年儿童出版社", "上海人民出版社", "上海古籍出版社",
    "广西师范大学出版社", "南海出版公司", "长江文艺出版社", "湖南文艺出版社", "北京联合出版公司",
    "中国人民大学出版社", "社会科学文献出版社", "江苏凤凰文艺出版社", "四川人民出版社", "中国青年出版社",
    "华东师范大学出版社", "科学出版社", "人民卫生出版社", "中国农业出版社", "化学工业出版社",
    "中国轻工业出版社", "人民体育出版社", "中国摄影出版社", "高等教育出版社", "外语教学与研究出版社",
]  # fmt: skip
PUBLISHERS_TECH = [
    "人民邮电出版社",
    "机械工业出版社",
    "电子工业出版社",
    "清华大学出版社",
    "中国电力出版社",
    "北京航空航天大学出版社",
    "科学出版社",
    "浙江大学出版社",
]
PUBLISHERS_EN = [
    "Penguin Books",
    "O'Reilly Media",
    "Oxford University Press",
    "Cambridge University Press",
    "Springer",
    "HarperCollins",
    "Vintage",
    "MIT Press",
    "Princeton University Press",
    "Routledge",
    "Wiley",
    "Pearson",
    "Macmillan",
    "Random House",
    "Addison-Wesley",
    "Manning",
]

# Non-fiction topics by category (finest level); titles are [prefix] + topic + [suffix].
TOPICS: dict[str, list[str]] = {
    "编程语言": ["Python", "Java", "C++", "Go语言", "Rust", "JavaScript", "TypeScript", "Kotlin", "函数式编程", "面向对象编程", "并发编程", "C语言"],
    "数据库": ["数据库系统", "MySQL", "PostgreSQL", "SQL", "数据仓库", "Redis", "分布式数据库", "数据建模"],
    "人工智能": ["机器学习", "深度学习", "神经网络", "自然语言处理", "计算机视觉", "强化学习", "知识图谱", "大语言模型", "推荐系统"],
    "操作系统": ["Linux", "操作系统", "Linux内核", "嵌入式Linux", "Windows系统"],
    "软件工程": ["软件工程", "敏捷开发", "设计模式", "代码重构", "软件测试", "微服务架构", "领域驱动设计", "系统架构"],
    "计算机网络": ["计算机网络", "TCP/IP", "网络协议", "云计算", "边缘计算", "网络编程"],
    "信息安全": ["网络安全", "密码学", "渗透测试", "数据安全", "信息安全"],
    "图形图像/多媒体": ["Photoshop", "三维建模", "视频剪辑", "计算机图形学", "UI设计"],
    "互联网/电子商务": ["电子商务", "互联网产品", "新媒体运营", "直播电商", "用户增长"],
    "电子技术": ["模拟电子技术", "数字电路", "电子电路", "集成电路", "传感器"],
    "通信技术": ["移动通信", "5G", "光纤通信", "卫星通信", "通信原理"],
    "嵌入式/单片机": ["单片机", "嵌入式系统", "物联网", "STM32", "Arduino"],
    "电工技术": ["电工", "电力电子", "电机控制", "PLC"],
    "中国史": ["中国通史", "宋代", "唐朝", "明朝", "清史", "秦汉", "魏晋南北朝", "近代中国", "丝绸之路", "大运河"],
    "世界史": ["世界史", "古罗马", "古希腊", "文艺复兴", "第二次世界大战", "大航海时代", "工业革命", "拜占庭"],
    "历史普及读物": ["历史", "中国历史", "朝代", "历史人物", "古代生活"],
    "地方史志": ["杭州", "宁波", "温州", "绍兴", "湖州", "嘉兴", "金华", "衢州", "舟山", "台州", "丽水", "浙江"],
    "股票": ["股票投资", "价值投资", "技术分析", "A股"],
    "基金": ["基金投资", "指数基金", "基金定投"],
    "个人理财": ["个人理财", "家庭理财", "财务自由", "财富管理"],
    "银行/货币": ["货币银行学", "商业银行", "货币政策", "数字货币"],
    "保险": ["保险学", "人寿保险", "保险规划"],
    "期货/外汇": ["期货交易", "外汇交易", "衍生品"],
    "企业管理": ["企业管理", "战略管理", "组织行为学", "管理学", "精益管理", "质量管理"],
    "市场营销": ["市场营销", "品牌管理", "消费者行为", "广告学"],
    "人力资源": ["人力资源管理", "绩效管理", "招聘面试", "薪酬设计"],
    "项目管理": ["项目管理", "敏捷项目管理", "PMP"],
    "领导力": ["领导力", "高效能管理", "团队管理"],
    "财务管理": ["财务管理", "会计学", "成本会计", "审计学", "财务报表分析"],
    "绘画": ["素描", "水彩", "油画", "国画", "速写", "插画"],
    "书法/篆刻": ["书法", "楷书", "行书", "篆刻", "隶书"],
    "音乐": ["乐理", "钢琴", "吉他", "古琴", "声乐", "音乐史"],
    "设计": ["平面设计", "字体设计", "工业设计", "室内设计", "服装设计"],
    "建筑艺术": ["中国古建筑", "园林艺术", "江南园林", "建筑美学"],
    "影视/戏剧": ["电影", "越剧", "昆曲", "京剧", "纪录片", "编剧"],
    "艺术理论": ["艺术史", "美学", "艺术概论"],
    "种植业": ["水稻栽培", "茶叶种植", "蔬菜种植", "果树栽培", "中药材种植"],
    "畜牧/养殖": ["生猪养殖", "淡水养殖", "家禽饲养", "水产养殖"],
    "林业": ["森林培育", "竹林经营", "林业经济"],
    "园艺": ["园艺", "盆景", "多肉植物", "家庭园艺", "花卉栽培"],
    "农业基础科学": ["土壤学", "农业气象", "植物保护", "农业机械"],
    "健身": ["健身", "跑步", "瑜伽", "力量训练", "减脂"],
    "养生": ["养生", "四季养生", "食疗", "睡眠"],
    "心理健康": ["心理健康", "情绪管理", "焦虑", "抑郁症", "正念"],
    "饮食营养": ["营养学", "膳食指南", "儿童营养"],
    "中医保健": ["中医养生", "经络", "艾灸", "推拿"],
    "临床医学": ["内科学", "外科学", "急诊医学", "儿科学", "心血管病", "糖尿病"],
    "基础医学": ["解剖学", "生理学", "病理学", "免疫学"],
    "中医": ["中医基础理论", "伤寒论", "本草纲目", "针灸学", "方剂学"],
    "药学": ["药理学", "药物化学", "临床药学"],
    "护理学": ["护理学", "老年护理", "康复护理"],
    "预防医学/卫生学": ["流行病学", "公共卫生", "传染病防治"],
    "天文学普及": ["宇宙", "星空", "黑洞", "太阳系", "银河系"],
    "生物科普": ["昆虫", "鸟类", "植物", "恐龙", "海洋生物", "进化论"],
    "地球科学普及": ["地球", "火山", "气候变化", "海洋", "地质"],
    "科学史/科学家": ["科学史", "物理学史", "数学史", "科学革命"],
    "技术普及": ["人工智能", "量子计算", "芯片", "区块链", "新能源"],
    "球类运动": ["足球", "篮球", "乒乓球", "羽毛球", "网球"],
    "田径": ["田径", "马拉松", "短跑"],
    "武术": ["太极拳", "武术", "咏春拳", "八段锦"],
    "棋牌": ["围棋", "象棋", "国际象棋", "桥牌"],
    "户外运动": ["登山", "徒步", "露营", "骑行", "滑雪"],
    "家庭教育": ["家庭教育", "亲子沟通", "青春期", "好习惯"],
    "孕产/胎教": ["怀孕", "孕期", "胎教", "分娩"],
    "婴幼儿护理": ["婴儿护理", "辅食", "育儿"],
    "亲子阅读": ["亲子阅读", "绘本阅读", "儿童阅读"],
    "摄影技术": ["摄影", "人像摄影", "风光摄影", "构图", "用光", "黑白摄影"],
    "摄影作品集": ["摄影集", "影像"],
    "手机摄影": ["手机摄影", "短视频拍摄"],
    "家常菜谱": ["家常菜", "快手菜", "下饭菜", "素食", "汤羹"],
    "中国菜系": ["浙菜", "杭帮菜", "川菜", "粤菜", "湘菜", "鲁菜", "淮扬菜"],
    "烘焙/甜点": ["烘焙", "面包", "蛋糕", "甜点", "西点"],
    "饮品": ["咖啡", "茶道", "龙井茶", "调酒"],
    "美食文化": ["美食", "饮食文化", "江南美食", "舌尖上的中国"],
    "国学普及读物": ["国学", "论语", "孟子", "道德经", "庄子", "诗经"],
    "经部": ["周易", "尚书", "礼记", "春秋左传"],
    "史部": ["资治通鉴", "汉书", "三国志", "后汉书"],
    "子部": ["孙子兵法", "韩非子", "墨子", "荀子"],
    "集部": ["楚辞", "昭明文选", "李太白集", "杜工部集"],
    "古籍整理": ["古籍", "版本学", "目录学", "校勘学"],
    "中国文化": ["中国文化", "传统文化", "江南文化", "宋韵文化", "良渚文化"],
    "世界各国文化": ["日本文化", "欧洲文化", "美国文化", "希腊神话"],
    "民俗": ["民俗", "节日", "二十四节气", "非物质文化遗产"],
    "考古/文物": ["考古", "青铜器", "瓷器", "文物", "良渚"],
    "文化评述": ["文化", "现代性", "城市文化"],
    "社会": ["社会", "城市化", "乡村振兴", "老龄化"],
    "社会学": ["社会学", "社会调查", "社会理论"],
    "新闻传播": ["新闻学", "传播学", "媒介", "新媒体"],
    "心理学": ["心理学", "社会心理学", "认知心理学", "发展心理学"],
    "西方哲学": ["哲学", "存在主义", "康德", "尼采", "古希腊哲学"],
    "中国哲学": ["儒家", "道家", "禅宗", "阳明心学", "宋明理学"],
    "伦理学": ["伦理学", "道德哲学"],
    "逻辑学": ["逻辑学", "批判性思维"],
    "宗教": ["佛教", "道教", "宗教学"],
    "政治": ["政治学", "公共管理", "国家治理"],
    "外交/国际关系": ["国际关系", "地缘政治", "外交"],
    "法律法规": ["民法典", "刑法", "劳动法", "合同法", "公司法"],
    "法学理论": ["法理学", "法律史", "宪法学"],
    "经济学理论": ["经济学", "微观经济学", "宏观经济学", "行为经济学", "计量经济学"],
    "中国经济": ["中国经济", "数字经济", "浙江经济", "民营经济"],
    "世界经济": ["全球化", "世界经济", "国际金融"],
    "财政税收": ["税法", "财政学", "个人所得税"],
    "国际贸易": ["国际贸易", "跨境电商", "外贸"],
    "教育理论": ["教育学", "教育心理学", "课程论"],
    "高等教育": ["大学", "高等教育"],
    "中小学教辅": ["小学数学", "初中物理", "高中化学", "作文", "英语阅读"],
    "考试": ["公务员考试", "考研", "英语四级", "教师资格证"],
    "汉语": ["现代汉语", "汉字", "古代汉语", "普通话"],
    "英语": ["英语语法", "英语词汇", "英语口语", "雅思", "托福"],
    "日语": ["日语", "日语语法", "日语能力考试"],
    "其他外语": ["法语", "德语", "韩语", "西班牙语"],
    "词典/工具书": ["词典", "成语词典", "百科全书"],
    "数学": ["高等数学", "线性代数", "概率论", "数学分析", "数论", "拓扑学"],
    "物理学": ["物理学", "量子力学", "相对论", "热力学", "电磁学"],
    "化学": ["有机化学", "无机化学", "分析化学", "物理化学"],
    "天文学": ["天文学", "天体物理", "宇宙学"],
    "生物学": ["生物学", "遗传学", "分子生物学", "生态学", "细胞生物学"],
    "地球科学": ["地质学", "气象学", "海洋学", "地理学"],
    "机械": ["机械设计", "机械制图", "数控技术", "机器人"],
    "建筑": ["建筑设计", "建筑结构", "土木工程", "城市规划"],
    "交通运输": ["汽车", "新能源汽车", "高铁", "交通规划"],
    "能源/电力": ["光伏", "风电", "储能", "电力系统"],
    "环境科学": ["环境保护", "生态文明", "碳中和", "水污染治理"],
    "家居": ["收纳", "家居装修", "家居设计"],
    "时尚/美妆": ["穿搭", "化妆", "护肤"],
    "两性/情感": ["婚姻", "恋爱", "亲密关系"],
    "宠物": ["养猫", "养狗", "宠物"],
    "手工DIY": ["手工", "编织", "刺绣", "木工"],
    "国内旅游": ["浙江旅游", "西湖", "千岛湖", "云南", "西藏", "江南古镇"],
    "国外旅游": ["日本旅游", "欧洲旅游", "东南亚"],
    "地图/地理": ["地图", "中国地图", "浙江省地图"],
    "人际交往": ["人际关系", "沟通", "说话之道"],
    "职场": ["职场", "时间管理", "高效工作", "职业规划"],
    "成功/激励": ["成功", "自律", "习惯", "成长"],
    "心灵修养": ["心灵", "幸福", "内心的平静"],
    "漫画": ["漫画"],
    "幽默/笑话": ["幽默", "笑话"],
    "动漫画集": ["动画", "画集"],
    "绘本": ["绘本"],
    "少儿科普": ["十万个为什么", "恐龙", "太空", "海洋", "昆虫"],
    "益智游戏": ["迷宫", "数独", "找不同", "思维训练"],
    "少儿英语": ["少儿英语", "自然拼读"],
    "政治人物传记": ["政治家"],
    "历史人物传记": ["王阳明", "苏轼", "李白", "曾国藩", "武则天", "岳飞"],
    "文化名人传记": ["鲁迅", "沈从文", "张爱玲", "梁启超"],
    "科学家传记": ["爱因斯坦", "钱学森", "居里夫人", "牛顿", "屠呦呦"],
    "企业家传记": ["企业家", "创业者"],
    "自传/回忆录": ["我的前半生", "回忆录"],
}  # fmt: skip

PREFIXES = [
    "",
    "",
    "",
    "",
    "图解",
    "新编",
    "实用",
    "现代",
    "中国",
    "走进",
    "趣味",
    "零基础学",
    "深入浅出",
    "一本书读懂",
    "漫画",
    "简明",
    "极简",
    "大众",
    "浙江",
]
SUFFIXES = ["", "导论", "入门", "实战", "原理", "精解", "指南", "教程", "基础", "研究", "简史", "概论", "十讲", "手册", "从入门到精通", "与实践", "通识", "百问百答", "全书", "讲义", "案例精选", "500问", "新论"]  # fmt: skip

# Literature: poetic titles.
LIT_ADJ = [
    "遥远",
    "寂静",
    "燃烧",
    "沉默",
    "温柔",
    "孤独",
    "漫长",
    "最后",
    "消失",
    "无尽",
    "明亮",
    "秘密",
    "破碎",
    "永恒",
    "流动",
    "黄昏",
    "清白",
    "迟到",
    "荒原",
    "平凡",
]
LIT_NOUN = [
    "河流",
    "故乡",
    "森林",
    "夏天",
    "雪",
    "月光",
    "城市",
    "少年",
    "岛屿",
    "火车",
    "灯塔",
    "来信",
    "花园",
    "山谷",
    "海",
    "风",
    "鸟",
    "远方",
    "旧时光",
    "告白",
    "长夜",
    "星辰",
    "码头",
    "渡口",
    "钟声",
    "白鹭",
    "桂花",
    "老街",
    "归途",
    "青春",
]
LIT_PLACE = [
    "长安",
    "江南",
    "北平",
    "西湖",
    "塞北",
    "钱塘",
    "姑苏",
    "金陵",
    "岭南",
    "湘西",
    "东京",
    "巴黎",
    "伦敦",
    "雪国",
]
LIT_TIME = ["春天", "一九八四年", "昨天", "黎明", "雨季", "冬天", "午夜", "那年"]
LIT_CATEGORIES = [
    "中国现当代小说",
    "外国小说",
    "侦探/悬疑/推理",
    "散文/随笔/书信",
    "诗歌",
    "纪实文学",
    "中国古典小说",
    "武侠",
    "科幻",
    "言情",
    "历史小说",
    "儿童文学",
]

EN_ADJ = [
    "Silent",
    "Hidden",
    "Lost",
    "Modern",
    "Ancient",
    "Last",
    "Little",
    "Golden",
    "Broken",
    "Invisible",
    "Practical",
    "Essential",
    "Complete",
    "Wild",
    "Secret",
    "Great",
    "Quiet",
    "Distant",
]
EN_NOUN = [
    "River",
    "City",
    "Garden",
    "Empire",
    "Mind",
    "Island",
    "Library",
    "Ocean",
    "Mountain",
    "Kingdom",
    "Machine",
    "Journey",
    "House",
    "Forest",
    "Memory",
    "Light",
    "Road",
    "Sea",
    "Star",
    "Dream",
    "Winter",
    "Stone",
    "Voice",
    "Map",
]
EN_TOPICS = [
    "Python",
    "Machine Learning",
    "Data Science",
    "History",
    "Economics",
    "Psychology",
    "Philosophy",
    "Physics",
    "Statistics",
    "Algorithms",
    "Linguistics",
    "Architecture",
    "Photography",
    "Sociology",
    "Chinese Art",
    "Climate Change",
    "Neuroscience",
    "Mathematics",
    "Cooking",
    "Design",
]
EN_TOPIC_CATEGORY = {
    "Python": "编程语言",
    "Machine Learning": "人工智能",
    "Data Science": "数据库",
    "History": "世界史",
    "Economics": "经济学理论",
    "Psychology": "心理学",
    "Philosophy": "西方哲学",
    "Physics": "物理学",
    "Statistics": "数学",
    "Algorithms": "计算机与互联网",
    "Linguistics": "其他外语",
    "Architecture": "建筑",
    "Photography": "摄影技术",
    "Sociology": "社会学",
    "Chinese Art": "艺术理论",
    "Climate Change": "环境科学",
    "Neuroscience": "生物学",
    "Mathematics": "数学",
    "Cooking": "美食文化",
    "Design": "设计",
}
EN_FIRST = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Richard",
    "Sarah",
    "Thomas",
    "Karen",
    "Emma",
    "Oliver",
    "Sophia",
    "Daniel",
]
EN_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Carter",
]
EN_PATTERNS = [
    "The {adj} {noun}",
    "{adj} {noun}",
    "The {noun} of {noun2}",
    "A History of {topic}",
    "Learning {topic}",
    "{topic} in Action",
    "Introduction to {topic}",
    "{topic}: A Very Short Introduction",
    "The Art of {topic}",
    "Thinking About {topic}",
    "{topic} for Everyone",
    "The {adj} {noun}: A Novel",
]

TOPIC_CATEGORIES = list(TOPICS)


@dataclass(frozen=True)
class GeneratedTitle:
    isbn13: str
    title: str
    subtitle: str
    authors: tuple[str, ...]
    publisher: str
    year: int
    category: str
    list_price_fen: int
    pages: int
    subjects: str
    summary: str
    popularity: int
    stock: int


def _chinese_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(FOREIGN_GIVEN) + "·" + rng.choice(FOREIGN_FAMILY)
    if roll < 0.13:
        return rng.choice(JAPANESE_FAMILY) + rng.choice(JAPANESE_GIVEN)
    surname = rng.choice(COMPOUND_SURNAMES) if roll < 0.15 else rng.choice(SURNAMES)
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.65 else "")
    return surname + given


def _year(rng: random.Random) -> int:
    return max(1950, 2026 - int(abs(rng.gauss(0, 11))))


def generated_title(i: int) -> GeneratedTitle:
    """Generated title number ``i`` (always the same)."""
    rng = random.Random(i * 7919 + 17)
    roll = rng.random()
    year = _year(rng)
    popularity = int(rng.paretovariate(1.3)) - 1
    stock = 0 if rng.random() < 0.2 else rng.randint(1, 30)
    pages = rng.randint(96, 720)
    if roll < 0.25:  # English
        topic = rng.choice(EN_TOPICS)
        pattern = rng.choice(EN_PATTERNS)
        title = pattern.format(
            adj=rng.choice(EN_ADJ), noun=rng.choice(EN_NOUN), noun2=rng.choice(EN_NOUN), topic=topic
        )
        category = EN_TOPIC_CATEGORY[topic] if "{topic}" in pattern else "外国小说"
        authors = tuple(
            f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}" for _ in range(rng.choice((1, 1, 1, 2)))
        )
        publisher = rng.choice(PUBLISHERS_EN)
        subjects = topic if "{topic}" in pattern else "Fiction"
        summary = f"{title} — {subjects.lower()}, {year}."
        price = rng.randint(150, 900) * 100
    elif roll < 0.55:  # Chinese literature
        category = rng.choice(LIT_CATEGORIES)
        form = rng.randrange(6)
        if form == 0:
            title = f"{rng.choice(LIT_ADJ)}的{rng.choice(LIT_NOUN)}"
        elif form == 1:
            title = f"{rng.choice(LIT_NOUN)}与{rng.choice(LIT_NOUN)}"
        elif form == 2:
            title = f"{rng.choice(LIT_PLACE)}{rng.choice(LIT_NOUN)}"
        elif form == 3:
            title = f"{rng.choice(LIT_TIME)}的{rng.choice(LIT_NOUN)}"
        elif form == 4:
            title = f"{rng.choice(LIT_PLACE)}的{rng.choice(LIT_ADJ)}{rng.choice(LIT_NOUN)}"
        else:
            title = f"{rng.choice(LIT_NOUN)}{rng.choice(('记', '传', '集', '志', '书', '录'))}"
        authors = (_chinese_name(rng),)
        if rng.random() < 0.3:
            authors += (_chinese_name(rng),)
        publisher = rng.choice(PUBLISHERS_GENERAL)
        subjects = f"{category}; 长篇小说" if "小说" in category else category
        summary = f"《{title}》是一部关于{rng.choice(LIT_NOUN)}与{rng.choice(LIT_NOUN)}的作品。"
        price = rng.randint(20, 80) * 100 + rng.choice((0, 50, 80))
    else:  # Chinese non-fiction
        category = rng.choice(TOPIC_CATEGORIES)
        topic = rng.choice(TOPICS[category])
        prefix = rng.choice(PREFIXES)
        suffix = rng.choice(SUFFIXES)
        if prefix and (topic.startswith(prefix) or prefix in topic):
            prefix = ""
        title = (
            f"{prefix}{topic}{suffix}"
            if (prefix or suffix)
            else f"{topic}{rng.choice(SUFFIXES[1:])}"
        )
        authors = (_chinese_name(rng),)
        if rng.random() < 0.35:
            authors += (_chinese_name(rng),)
        technical = category in (
            "编程语言", "数据库", "人工智能", "操作系统", "软件工程", "计算机网络", "信息安全",
            "电子技术", "通信技术", "嵌入式/单片机",
        )  # fmt: skip
        publisher = rng.choice(PUBLISHERS_TECH if technical else PUBLISHERS_GENERAL)
        subjects = f"{topic}; {category}"
        summary = f"本书系统介绍{topic}的基本概念、方法与应用。"
        price = rng.randint(25, 160) * 100 + rng.choice((0, 0, 50, 80))
    edition_roll = rng.random()
    subtitle = ""
    if edition_roll < 0.06:
        subtitle = f"第{rng.randint(2, 6)}版"
    elif edition_roll < 0.1:
        subtitle = "修订版"
    return GeneratedTitle(
        isbn13=isbn_for_generated(i),
        title=title,
        subtitle=subtitle,
        authors=authors,
        publisher=publisher,
        year=year,
        category=category,
        list_price_fen=price,
        pages=pages,
        subjects=subjects,
        summary=summary,
        popularity=popularity,
        stock=stock,
    )


def generated_titles(start: int, stop: int) -> Iterator[GeneratedTitle]:
    for i in range(start, stop):
        yield generated_title(i)
