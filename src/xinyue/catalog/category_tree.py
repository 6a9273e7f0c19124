"""The platform's category tree (DESIGN §11): the 18 home categories first, in the portal's order,
then the rest; two levels; names unique across the tree.

Loaded by migration 0003 and by ``load_category_tree`` (idempotent: missing names are added,
existing ones are left as the operator edited them).
"""

from __future__ import annotations

from typing import Any

# (top category, shown on the home page, [sub-categories])
CATEGORY_TREE: list[tuple[str, bool, list[str]]] = [
    ("文学", True, ["中国现当代小说", "外国小说", "侦探/悬疑/推理", "散文/随笔/书信", "诗歌", "纪实文学", "中国古典小说", "文学评论"]),
    ("计算机与互联网", True, ["编程语言", "数据库", "人工智能", "操作系统", "软件工程", "计算机网络", "信息安全", "图形图像/多媒体", "互联网/电子商务"]),
    ("国学/古籍", True, ["国学普及读物", "经部", "史部", "子部", "集部", "古籍整理"]),
    ("文化", True, ["中国文化", "世界各国文化", "民俗", "考古/文物", "文化评述"]),
    ("电子与通信", True, ["电子技术", "通信技术", "电工技术", "嵌入式/单片机"]),
    ("历史", True, ["中国史", "世界史", "历史普及读物", "史学理论", "地方史志"]),
    ("金融与投资", True, ["股票", "基金", "银行/货币", "保险", "个人理财", "期货/外汇"]),
    ("管理", True, ["企业管理", "市场营销", "人力资源", "项目管理", "领导力", "财务管理"]),
    ("艺术", True, ["绘画", "书法/篆刻", "音乐", "设计", "建筑艺术", "影视/戏剧", "艺术理论"]),
    ("农业/林业", True, ["种植业", "畜牧/养殖", "林业", "园艺", "农业基础科学"]),
    ("健身与保健", True, ["健身", "养生", "心理健康", "饮食营养", "中医保健"]),
    ("医学", True, ["临床医学", "基础医学", "中医", "药学", "护理学", "预防医学/卫生学"]),
    ("科普读物", True, ["天文学普及", "生物科普", "地球科学普及", "科学史/科学家", "技术普及"]),
    ("传记", True, ["政治人物传记", "历史人物传记", "文化名人传记", "科学家传记", "企业家传记", "自传/回忆录"]),
    ("体育/运动", True, ["球类运动", "田径", "武术", "棋牌", "户外运动", "体育理论"]),
    ("育儿/家教", True, ["家庭教育", "孕产/胎教", "婴幼儿护理", "亲子阅读"]),
    ("摄影", True, ["摄影技术", "摄影作品集", "手机摄影"]),
    ("烹饪/美食", True, ["家常菜谱", "中国菜系", "烘焙/甜点", "饮品", "美食文化"]),
    ("社会科学", False, ["社会", "社会学", "新闻传播", "人口学", "民族学"]),
    ("少儿", False, ["儿童文学", "绘本", "少儿科普", "益智游戏", "少儿英语"]),
    ("哲学/宗教", False, ["中国哲学", "西方哲学", "伦理学", "逻辑学", "宗教", "心理学"]),
    ("政治/法律", False, ["政治", "外交/国际关系", "法律法规", "法学理论"]),
    ("经济", False, ["经济学理论", "中国经济", "世界经济", "财政税收", "国际贸易"]),
    ("教育", False, ["教育理论", "高等教育", "中小学教辅", "考试"]),
    ("语言文字", False, ["汉语", "英语", "日语", "其他外语", "词典/工具书"]),
    ("自然科学", False, ["数学", "物理学", "化学", "天文学", "生物学", "地球科学"]),
    ("工业技术", False, ["机械", "建筑", "交通运输", "能源/电力", "环境科学"]),
    ("生活", False, ["家居", "时尚/美妆", "两性/情感", "宠物", "手工DIY"]),
    ("旅游/地图", False, ["国内旅游", "国外旅游", "地图/地理"]),
    ("励志/成功", False, ["人际交往", "职场", "成功/激励", "心灵修养"]),
    ("小说", False, ["武侠", "科幻", "言情", "历史小说", "官场"]),
    ("动漫/幽默", False, ["漫画", "幽默/笑话", "动漫画集"]),
]  # fmt: skip

HOME_CATEGORIES: list[str] = [name for name, home, _subs in CATEGORY_TREE if home]


def load_tree(category_model: Any) -> int:
    """Create the tree's missing categories with ``category_model`` (the real or a historical
    model). Returns how many were created."""
    existing = {c.name: c for c in category_model.objects.all()}
    created = 0
    for top_position, (name, home, subs) in enumerate(CATEGORY_TREE, start=1):
        top = existing.get(name)
        if top is None:
            top = category_model.objects.create(
                name=name, parent=None, position=top_position, show_on_home=home
            )
            existing[name] = top
            created += 1
        for sub_position, sub in enumerate(subs, start=1):
            if sub not in existing:
                existing[sub] = category_model.objects.create(
                    name=sub, parent=top, position=sub_position, show_on_home=False
                )
                created += 1
    return created
