"""Static data of the demo city (演示城市), modelled on 平凉市 as the seed reports describe it.

平凉 in the reports: seven counties and districts, 102 townships ("全市102个乡镇"), about 1,500 villages
("宽带通村 1112 个，占全市行政村总数的 73%"), 880-odd units on the government network ("接入单位880多个"),
60-odd city departments, and a paper + electronic transition period in which some counties and city
departments still receive printed copies (双轨制). County and township names are the real ones; village
and person names are generated (deterministically) from pools of common local forms.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY_CODE = "620800"
CITY_NAME = "平凉市"
CITY_SHORT = "平凉"
AREA_CODE = "0933"


@dataclass(frozen=True)
class County:
    code: str
    name: str
    towns: tuple[str, ...]  # 镇: region codes 100, 101, …
    townships: tuple[str, ...]  # 乡: region codes 200, 201, …
    paper: bool = False  # still receives paper copies (双轨制)


# Region codes are the national ones (GB/T 2260). 华亭 became a county-level city in 2018 (620881).
COUNTIES: tuple[County, ...] = (
    County(
        "620802",
        "崆峒区",
        ("崆峒镇", "白水镇", "草峰镇", "安国镇", "柳湖镇", "四十里铺镇", "花所镇"),
        (
            "索罗乡",
            "香莲乡",
            "西阳回族乡",
            "大秦回族乡",
            "白庙回族乡",
            "寨河回族乡",
            "大寨回族乡",
            "上杨回族乡",
            "麻武乡",
            "峡门回族乡",
        ),
    ),
    County(
        "620821",
        "泾川县",
        ("城关镇", "王村镇", "玉都镇", "高平镇", "荔堡镇", "窑店镇", "飞云镇", "丰台镇", "党原镇", "汭丰镇"),
        ("泾明乡", "红河乡", "罗汉洞乡", "太平乡"),
        paper=True,
    ),
    County(
        "620822",
        "灵台县",
        ("中台镇", "邵寨镇", "独店镇", "什字镇", "朝那镇", "西屯镇", "上良镇", "百里镇", "蒲窝镇"),
        ("新开乡", "梁原乡", "龙门乡", "星火乡"),
        paper=True,
    ),
    County("620823", "崇信县", ("锦屏镇", "新窑镇", "柏树镇", "黄寨镇"), ("黄花乡", "木林乡")),
    County(
        "620881",
        "华亭市",
        ("东华镇", "安口镇", "西华镇", "马峡镇", "策底镇", "上关镇", "河西镇"),
        ("砚峡乡", "神峪回族乡", "山寨回族乡"),
    ),
    County(
        "620825",
        "庄浪县",
        (
            "水洛镇",
            "南湖镇",
            "朱店镇",
            "万泉镇",
            "韩店镇",
            "阳川镇",
            "盘安镇",
            "大庄镇",
            "通化镇",
            "卧龙镇",
            "岳堡镇",
        ),
        ("杨河乡", "赵墩乡", "柳梁乡", "良邑乡", "郑河乡", "永宁乡", "南坪乡"),
    ),
    County(
        "620826",
        "静宁县",
        (
            "城关镇",
            "威戎镇",
            "界石铺镇",
            "八里镇",
            "李店镇",
            "古城镇",
            "仁大镇",
            "甘沟镇",
            "城川镇",
            "司桥镇",
            "治平镇",
            "雷大镇",
            "细巷镇",
            "双岘镇",
            "原安镇",
            "曹务镇",
        ),
        ("余湾乡", "贾河乡", "深沟乡", "三合乡", "新店乡", "四河乡", "红寺乡", "灵芝乡"),
    ),
)

# The leading bodies (四大家 and the two judicial organs) at city and county level.
# (code tag, kind, full-name pattern, short-name pattern); {r} is the region name, {s} its short form.
LEADING_BODIES: tuple[tuple[str, str, str, str], ...] = (
    ("DW", "party", "中共{r}委员会", "{s}委"),
    ("RD", "congress", "{r}人民代表大会常务委员会", "{s}人大常委会"),
    ("ZF", "government", "{r}人民政府", "{s}政府"),
    ("ZX", "cppcc", "政协{r}委员会", "{s}政协"),
    ("FY", "court", "{r}{court}人民法院", "{s}{court_short}法院"),
    ("JC", "procuratorate", "{r}人民检察院", "{s}检察院"),
)


@dataclass(frozen=True)
class Dept:
    """A department (部门) of the city or a county: full name, short name, whose it is, its sections."""

    name: str
    short: str
    under: str = "ZF"  # the leading body it belongs to: ZF government, DW party committee
    sections: tuple[str, ...] = ()
    paper: bool = False


_CITY_SECTIONS = ("办公室", "综合科", "政策法规科")

# 市直部门: 60 departments of the party committee and the government.
CITY_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("中共平凉市纪律检查委员会", "市纪委", "DW", ("办公室", "党风政风监督室", "案件审理室")),
    Dept("中共平凉市委组织部", "市委组织部", "DW", ("办公室", "干部科", "组织科")),
    Dept("中共平凉市委宣传部", "市委宣传部", "DW", ("办公室", "新闻科", "网络宣传科")),
    Dept("中共平凉市委统战部", "市委统战部", "DW"),
    Dept("中共平凉市委政法委员会", "市委政法委", "DW"),
    Dept("中共平凉市委政策研究室", "市委政研室", "DW"),
    Dept("平凉市机构编制委员会办公室", "市编办", "DW"),
    Dept("中共平凉市委党校", "市委党校", "DW", ("办公室", "教务处")),
    Dept("中共平凉市直属机关工作委员会", "市直机关工委", "DW"),
    Dept("中共平凉市委老干部局", "市委老干局", "DW", paper=True),
    Dept("平凉市发展和改革委员会", "市发改委", sections=("办公室", "综合科", "投资科", "价格科")),
    Dept("平凉市教育局", "市教育局", sections=("办公室", "基础教育科", "教育信息化科")),
    Dept("平凉市科学技术局", "市科技局"),
    Dept("平凉市工业和信息化委员会", "市工信委"),
    Dept("平凉市民族宗教事务委员会", "市民宗委", paper=True),
    Dept("平凉市公安局", "市公安局", sections=("办公室", "治安管理科", "户政科", "出入境管理科")),
    Dept("平凉市民政局", "市民政局", sections=("办公室", "社会救助科", "基层政权科")),
    Dept("平凉市司法局", "市司法局"),
    Dept("平凉市财政局", "市财政局", sections=("办公室", "预算科", "国库科", "综合科")),
    Dept("平凉市人力资源和社会保障局", "市人社局", sections=("办公室", "就业促进科", "社会保险科")),
    Dept("平凉市国土资源局", "市国土局"),
    Dept("平凉市环境保护局", "市环保局"),
    Dept("平凉市住房和城乡建设局", "市住建局", sections=("办公室", "建筑业管理科", "村镇建设科")),
    Dept("平凉市交通运输局", "市交通局"),
    Dept("平凉市水务局", "市水务局"),
    Dept("平凉市农牧局", "市农牧局", sections=("办公室", "农业科", "三农信息科")),
    Dept("平凉市林业局", "市林业局", paper=True),
    Dept("平凉市商务局", "市商务局"),
    Dept("平凉市文化和旅游局", "市文旅局", sections=("办公室", "旅游促进科", "文化产业科")),
    Dept("平凉市卫生和计划生育委员会", "市卫计委", sections=("办公室", "医政科", "疾病预防控制科")),
    Dept("平凉市审计局", "市审计局"),
    Dept("平凉市人民政府国有资产监督管理委员会", "市国资委"),
    Dept("平凉市安全生产监督管理局", "市安监局"),
    Dept("平凉市统计局", "市统计局"),
    Dept("平凉市市场监督管理局", "市市场监管局", sections=("办公室", "登记注册科", "食品安全科")),
    Dept("平凉市体育局", "市体育局", paper=True),
    Dept("平凉市城市管理行政执法局", "市城管执法局"),
    Dept("平凉市扶贫开发办公室", "市扶贫办"),
    Dept("平凉市人民防空办公室", "市人防办", paper=True),
    Dept(
        "平凉市人民政府法制办公室", "市法制办", sections=("办公室", "法规科", "行政执法监督科", "行政复议科")
    ),
    Dept(
        "平凉市监察局",
        "市监察局",
        sections=("办公室", "执法监察科", "纠风室", "效能监察室", "电子监察中心"),
    ),
    Dept(
        "平凉市信息化办公室",
        "市信息办",
        sections=("办公室", "网络运维科", "网站管理科", "应用推广科", "信息安全科"),
    ),
    Dept(
        "平凉市政务服务中心", "市政务服务中心", sections=("办公室", "审批协调科", "窗口管理科", "投诉受理科")
    ),
    Dept("平凉市信访局", "市信访局", sections=("办公室", "来信科", "网上信访科", "督查科")),
    Dept("平凉市人民政府外事侨务办公室", "市外侨办", paper=True),
    Dept("平凉市机关事务管理局", "市机关事务局"),
    Dept("平凉市粮食局", "市粮食局", paper=True),
    Dept("平凉市物价局", "市物价局"),
    Dept("平凉市招商局", "市招商局", sections=("办公室", "项目科", "网上招商科")),
    Dept("平凉市金融工作办公室", "市金融办"),
    Dept("平凉市果业局", "市果业局"),
    Dept("平凉市畜牧兽医局", "市畜牧局"),
    Dept("平凉市煤炭工业局", "市煤炭局"),
    Dept("平凉市广播电影电视局", "市广电局"),
    Dept("平凉市档案局", "市档案局", sections=("办公室", "电子档案科", "业务指导科")),
    Dept("平凉市地方志办公室", "市地志办", paper=True),
    Dept("平凉市规划局", "市规划局"),
    Dept("平凉市住房公积金管理中心", "市公积金中心"),
    Dept("平凉市公共资源交易中心", "市公共资源交易中心"),
    Dept("平凉市地震局", "市地震局", paper=True),
)

# 垂直管理部门 in the city: administered from the province or the centre; the county branches of the
# first three sit under them.
CITY_VERTICALS: tuple[Dept, ...] = (
    Dept("国家税务总局平凉市税务局", "市税务局", "", ("办公室", "纳税服务科", "征收管理科")),
    Dept("平凉市气象局", "市气象局", "", ("办公室", "业务科")),
    Dept("平凉市烟草专卖局", "市烟草专卖局", "", ("办公室", "专卖监督科")),
    Dept("国家统计局平凉调查队", "平凉调查队", "", ("办公室", "业务科")),
    Dept("平凉市邮政管理局", "市邮政管理局", "", ("办公室", "市场监管科")),
    Dept("中国人民银行平凉市中心支行", "人行平凉中支", "", ("办公室", "货币信贷科")),
    Dept("平凉银行业监督管理分局", "平凉银监分局", "", ("办公室", "监管科")),
    Dept("平凉市质量技术监督局", "市质监局", "", ("办公室", "计量科")),
    Dept("平凉市盐务管理局", "市盐务局", "", ("办公室", "业务科")),
    Dept("甘肃省无线电管理委员会平凉管理处", "市无线电管理处", "", ("办公室", "频率台站科")),
    Dept("平凉水文水资源勘测局", "平凉水文局", "", ("办公室", "水情科")),
    Dept("平凉公路管理局", "平凉公路局", "", ("办公室", "养护科")),
    Dept("平凉市公安消防支队", "市消防支队", "", ("办公室", "防火监督处")),
    Dept("平凉出入境检验检疫局", "平凉检验检疫局", "", ("办公室", "检验科")),
    Dept("国网平凉供电公司", "平凉供电公司", "", ("办公室", "营销部")),
)

_COUNTY_SECTIONS = ("办公室", "业务股")

# 县区部门: {c} is the county's name. The same 25 in every county.
COUNTY_DEPARTMENTS: tuple[Dept, ...] = (
    Dept("中共{c}纪律检查委员会", "{c}纪委", "DW"),
    Dept("中共{c}委组织部", "{c}委组织部", "DW"),
    Dept("中共{c}委宣传部", "{c}委宣传部", "DW"),
    Dept("中共{c}委统战部", "{c}委统战部", "DW"),
    Dept("中共{c}委政法委员会", "{c}委政法委", "DW"),
    Dept("{c}发展和改革局", "{c}发改局"),
    Dept("{c}教育局", "{c}教育局"),
    Dept("{c}公安局", "{c}公安局", sections=("办公室", "治安股", "户籍股")),
    Dept("{c}民政局", "{c}民政局"),
    Dept("{c}司法局", "{c}司法局"),
    Dept("{c}财政局", "{c}财政局", sections=("办公室", "预算股", "国库股")),
    Dept("{c}人力资源和社会保障局", "{c}人社局"),
    Dept("{c}国土资源局", "{c}国土局"),
    Dept("{c}住房和城乡建设局", "{c}住建局"),
    Dept("{c}交通运输局", "{c}交通局"),
    Dept("{c}水务局", "{c}水务局"),
    Dept("{c}农牧局", "{c}农牧局"),
    Dept("{c}林业局", "{c}林业局"),
    Dept("{c}卫生和计划生育局", "{c}卫计局"),
    Dept("{c}审计局", "{c}审计局"),
    Dept("{c}监察局", "{c}监察局", sections=("办公室", "效能监察股")),
    Dept("{c}信息化办公室", "{c}信息办", sections=("办公室", "网络股", "网站股")),
    Dept("{c}政务服务中心", "{c}政务服务中心", sections=("办公室", "窗口管理股")),
    Dept("{c}文化和旅游局", "{c}文旅局"),
    Dept("{c}市场监督管理局", "{c}市场监管局"),
)

# County branches of vertical departments: (name, short, the city vertical's short name).
COUNTY_VERTICALS: tuple[tuple[str, str, str], ...] = (
    ("国家税务总局{c}税务局", "{c}税务局", "市税务局"),
    ("{c}气象局", "{c}气象局", "市气象局"),
    ("{c}烟草专卖局", "{c}烟草专卖局", "市烟草专卖局"),
)

TOWNSHIP_SECTIONS = ("党政办公室", "经济发展办公室", "社会事务办公室", "便民服务中心")

# How many village committees (村委会/居委会) are on the platform: with the 421 city, county and township
# units this makes the seed's "880多个" connected units.
VILLAGE_UNITS = 465

# --- name pools (deterministic generation) ---------------------------------------------------------
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
# 马 and 杨 are more common in 平凉 (a large Hui population) than nationally: listed again to weigh them.
SURNAMES_WEIGHTED = SURNAMES + "王李张刘马马马杨杨赵陈"
GIVEN_CHARS = (
    "建国军华明伟强红芳丽静敏霞燕玲英文斌勇涛杰磊鹏辉峰刚平荣林海波宁琴兰娟慧婷雪梅丹云亮超鑫浩宇晨阳帆博"
    "志刚永忠德福生成新春秀珍凤玉桂花金海晓东小学兵欣怡佳瑞泽轩涵萱诚彬俊杰宏伟晶莉娜蓉霖昊天思源子涵嘉乐"
)

VILLAGE_GEO = "沟湾塬岔洼河山庄堡峁坪川台咀寨坡岭峪渠滩头梁"
VILLAGE_DESCRIPTORS = "东西南北上下前后新大小高长红黄白石柳杏桃枣槐柏松安平太永兴和丰龙凤马牛花泉"
COMMUNITY_NAMES = (
    "东关",
    "西关",
    "南关",
    "北关",
    "中街",
    "新华",
    "建设",
    "和平",
    "解放",
    "文化",
    "人民路",
    "广场",
    "宝塔",
    "红旗",
    "新民",
    "东城",
    "西城",
    "滨河",
)

STREETS = (
    "西大街",
    "东大街",
    "新民路",
    "宝塔路",
    "崆峒大道",
    "广成路",
    "解放路",
    "红旗街",
    "柳湖路",
    "东环路",
)

ENTERPRISE_PLACES = ("平凉", "崆峒", "泾川", "灵台", "崇信", "华亭", "庄浪", "静宁")
ENTERPRISE_BRANDS = (
    "金果",
    "红牛",
    "陇东",
    "泾河",
    "柳湖",
    "龙泉",
    "太统",
    "宝塔",
    "紫金",
    "兴陇",
    "瑞丰",
    "嘉禾",
    "鑫源",
    "华瑞",
    "天成",
    "恒通",
    "德润",
    "万象",
    "丰泽",
    "安康",
    "顺达",
    "聚丰",
    "盛世",
    "博远",
    "润泽",
    "金源",
    "福满",
    "腾达",
    "众诚",
    "华夏",
    "长丰",
    "同心",
    "西岭",
    "云崖",
    "弹筝",
    "皇甫",
    "汭河",
    "关山",
    "六盘",
    "成纪",
)
ENTERPRISE_TRADES = (
    "农业科技",
    "果品",
    "煤业",
    "建材",
    "商贸",
    "物流",
    "建筑工程",
    "食品",
    "畜牧养殖",
    "旅游开发",
    "文化传媒",
    "电子科技",
    "餐饮管理",
    "医药",
    "汽车服务",
    "牛业",
    "苹果专业合作社",
    "劳务",
    "印务",
    "信息技术",
    "电力工程",
    "中药材",
    "房地产开发",
    "家政服务",
    "环保科技",
)
