"""Names for synthetic units: distinct unit names from place and institution parts, the work each does, and
contact people.
"""

from __future__ import annotations

import random

#: Unit names must be distinct; give up on a corpus this much larger than the name space.
MAX_NAME_TRIES = 50

_PLACE_1 = "青白临松金翠东西南北安平宁永长丰新华兴江河林阳明德清泉石凤龙桃柳云梅兰竹秀岳湘沅资澧衡邵常益郴怀娄武"
_PLACE_2 = "山云湖涛沙屏城乡江河川源溪州阳宁安平丰泰和兴华庆康乐化陵塘岗坪田桥口湾洲岭峰"
_PLACE_SUFFIX = ("县", "区", "市")
#: (institution, the work it does): names and goals are built from both.
INSTITUTIONS = (
    ("农业技术推广中心", "农业技术推广"),
    ("图书馆", "公共阅读服务"),
    ("文化馆", "群众文化服务"),
    ("疾病预防控制中心", "疾病预防控制"),
    ("水利工程管理站", "水利工程管护"),
    ("市场监督服务中心", "市场监管服务"),
    ("公共租赁房屋运营服务中心", "公租房运营管理"),
    ("社会保险服务中心", "社会保险经办"),
    ("退役军人服务中心", "退役军人服务保障"),
    ("林业工作站", "林业资源保护"),
    ("动物疫病预防控制中心", "动物疫病防控"),
    ("档案馆", "档案收集管理"),
    ("博物馆", "文物保护与展示"),
    ("城市管理综合执法大队", "城市管理执法"),
    ("环境卫生服务中心", "环境卫生保洁"),
    ("政务服务中心", "政务服务"),
    ("公共资源交易中心", "公共资源交易"),
    ("不动产登记中心", "不动产登记"),
    ("就业服务中心", "就业创业服务"),
    ("医疗保障事务中心", "医疗保障经办"),
    ("妇幼保健院", "妇幼保健服务"),
    ("实验小学", "义务教育"),
    ("第一中学", "高中教育"),
    ("职业技术学校", "职业教育"),
    ("体育运动中心", "全民健身服务"),
    ("气象服务中心", "气象服务"),
    ("应急管理服务中心", "应急管理"),
    ("乡村振兴服务中心", "乡村振兴"),
    ("农村经营管理站", "农村经营管理"),
    ("自然资源执法监察大队", "自然资源执法"),
    ("交通运输事务中心", "交通运输服务"),
    ("公路养护中心", "公路养护"),
    ("园林绿化管理所", "园林绿化管护"),
    ("社会福利院", "社会福利服务"),
    ("融媒体中心", "新闻宣传"),
    ("统计调查中心", "统计调查"),
    ("住房保障服务中心", "住房保障"),
    ("生态环境监测站", "生态环境监测"),
)
_SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"


def contact_people(rng: random.Random, year: int) -> tuple[str, str, str, str]:
    s1, s2 = rng.sample(_SURNAMES, 2)
    phone = f"07{rng.randint(30, 46)}-{rng.randint(2_000_000, 8_999_999)}"
    m, d = rng.randint(3, 6), rng.randint(1, 28)
    date = f"{year + 1}.{m}.{d}" if rng.random() < 0.6 else f"{year + 1}年{m}月{d}日"
    return f"{s1}某某", phone, f"{s2}某某", date


def unit_names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """n distinct (unit name, theme)."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    space = len(_PLACE_1) * len(_PLACE_2) * len(_PLACE_SUFFIX) * len(INSTITUTIONS)
    if n > space // 2:
        raise ValueError(f"单位数 {n} 超过可生成的不同单位名称数量（{space // 2}）")
    while len(out) < n:
        for _ in range(MAX_NAME_TRIES):
            inst, theme = rng.choice(INSTITUTIONS)
            name = f"{rng.choice(_PLACE_1)}{rng.choice(_PLACE_2)}{rng.choice(_PLACE_SUFFIX)}{inst}"
            if name not in seen:
                break
        seen.add(name)
        out.append((name, theme))
    return out
