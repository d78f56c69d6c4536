#!/usr/bin/env python3
"""Build bench/accuracy/maven.tsv: Maven coordinates seen on public Maven Central / mvnrepository pages and
public build files, labelled by namespace ownership.

Every coordinate in ``SEEN`` was read from the page given with it (Maven Central's artifact pages, an
mvnrepository listing, a public gist's Gradle dependencies); none was made up here.  Many are third-party
artifacts named after a vendor (``cn.rongcloud.sdk.push:huawei``, ``com.mizhousoft.sdk:bytedance-sdk``):
the look-alike traps.

Label rule (independent of banscan's matcher): Maven Central verifies that a publisher controls the domain
of its groupId, so the groupId is reversed into a host name and its registrable domain (Public Suffix List,
``publicsuffixlist``) is looked up in the families' domain table generated from the community list
(``registry/data/generated/domains.json``).  Found: that family, relation ``product``.  Not found, but the
registrable label is a family word (``org.volcengine``: volcengine.org is in no list): ``?``, not scored.
Otherwise ``-``.

    python bench/accuracy/build_maven.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from publicsuffixlist import PublicSuffixList

HERE = Path(__file__).resolve().parent
DOMAINS = HERE.parents[1] / "src" / "banscan" / "registry" / "data" / "generated" / "domains.json"
CS = "https://central.sonatype.com/artifact/"
MVNR = "https://mvnrepository.com/artifact/"
GIST = "https://gist.github.com/lokeshsuryan/d4af4fa395f1a1bebfec0d15a91fe005"

# (group:artifact, page it was read from)
SEEN = [
    ("com.mizhousoft.sdk:bytedance-sdk", CS + "com.mizhousoft.sdk/bytedance-sdk"),
    ("io.github.yydzxz:bytedance", CS + "io.github.yydzxz/bytedance"),
    ("com.douhulu.bytedance:BytedanceJava", CS + "com.douhulu.bytedance/BytedanceJava"),
    ("com.bytedance.ttgame:optional_rn_CnToutiaoRelease", MVNR + "com.bytedance.ttgame/optional_rn_CnToutiaoRelease"),
    ("com.bytedance.ttgame:gsdk_I18nRelease", MVNR + "com.bytedance.ttgame/gsdk_I18nRelease"),
    ("com.bytedance.ttgame:gsdk_base_CnRelease", MVNR + "com.bytedance.ttgame/gsdk_base_CnRelease"),
    ("com.bytedance.ttgame:gsdk_api_I18nRelease", MVNR + "com.bytedance.ttgame/gsdk_api_I18nRelease"),
    ("com.bytedance.ttgame:rocket_sdk_I18nToutiaoRelease", MVNR + "com.bytedance.ttgame/rocket_sdk_I18nToutiaoRelease"),
    ("com.bytedance.ttgame:api_common", MVNR + "com.bytedance.ttgame/gsdk_base_CnRelease"),
    ("com.bytedance.ttgame:gsdk__module__main__impl__cn__release",
     MVNR + "com.tencent.mm.opensdk/wechat-sdk-android-without-mta/usages?p=5"),
    ("com.bytedance.ttgame:optional_mediaupload_CnToutiaoRelease",
     MVNR + "com.tencent.mm.opensdk/wechat-sdk-android-without-mta/usages?p=5"),
    ("com.gitee.tiamosu:beemanscommon", MVNR + "com.tencent.mm.opensdk/wechat-sdk-android-without-mta/usages?p=5"),
    ("co.pushe.plus:hms", CS + "co.pushe.plus/hms"),
    ("cn.rongcloud.sdk.push:huawei", CS + "cn.rongcloud.sdk.push/huawei"),
    ("com.huawei.hms:push", CS + "cn.rongcloud.sdk.push/huawei"),
    ("com.batch.android:hms-plugin", CS + "com.batch.android/hms-plugin"),
    ("io.smooth-way:iap-android-huawei", CS + "io.smooth-way/iap-android-huawei"),
    ("com.huawei.agconnect:agconnect-core", GIST),
    ("com.huawei.hms:ads-lite", GIST),
    ("com.huawei.hms:ads-consent", GIST),
    ("com.huawei.hms:hianalytics", GIST),
    ("io.github.zsmarter-api:hulk-huawei", CS + "io.github.zsmarter-api/hulk-huawei"),
    ("io.github.go-acoustic:connectHMS", CS + "io.github.go-acoustic/connectHMS"),
    ("dev.supasintatiyanupanwong.libraries.android.huawei.maps:maps-utils",
     CS + "dev.supasintatiyanupanwong.libraries.android.huawei.maps/maps-utils"),
    ("com.leanplum:leanplum-hms", CS + "com.leanplum/leanplum-hms"),
    ("com.volcengine:volcengine-java-sdk", CS + "com.volcengine/volcengine-java-sdk"),
    ("com.volcengine:volc-sdk-java", CS + "com.volcengine/volc-sdk-java"),
    ("com.volcengine:volcengine-java-sdk-vmp", CS + "com.volcengine/volcengine-java-sdk-vmp"),
    ("com.volcengine:volcengine-java-sdk-bom", CS + "com.volcengine/volcengine-java-sdk-bom"),
    ("com.volcengine:volcengine-java-sdk-clb", CS + "com.volcengine/volcengine-java-sdk-clb"),
    ("com.volcengine:volcengine-java-sdk-core", CS + "com.volcengine/volcengine-java-sdk-bom"),
    ("com.volcengine:volcengine-java-sdk-dcdn", "https://libraries.io/maven/com.volcengine:volcengine-java-sdk-dcdn"),
    ("org.volcengine:volcengine-java-sdk-core", CS + "org.volcengine/volcengine-java-sdk-core/dependents"),
    ("com.larksuite.oapi:larksuite-oapi", CS + "com.larksuite.oapi/larksuite-oapi"),
    ("com.larksuite.oapi:oapi-sdk-servlet-ext", CS + "com.larksuite.oapi/oapi-sdk-servlet-ext"),
    ("com.larksuite.oapi:oapi-sdk", "https://blog.csdn.net/gitblog_01197/article/details/141237733"),
    ("cn.gmlee.tools:tools-lark", CS + "cn.gmlee.tools/tools-lark/6.0.2"),
    ("org.microjservice.lark:lark-api", CS + "org.microjservice.lark/lark-api"),
]


def main() -> int:
    psl = PublicSuffixList()
    table = json.loads(DOMAINS.read_text(encoding="utf-8"))
    owner = {d["domain"]: d["family"] for d in table["domains"] if d["match"] == "subdomains"}
    words = {d.split(".")[0] for d in owner}
    out = HERE / "maven.tsv"
    rows = []
    for coord, url in SEEN:
        group = coord.split(":", 1)[0]
        host = ".".join(reversed(group.lower().split(".")))
        reg = psl.privatesuffix(host)
        fam = owner.get(reg or "")
        if fam:
            label, rel, note = fam, "product", f"namespace-owner ({reg} in the {fam} domain list)"
        elif reg and reg.split(".")[0] in words:
            label, rel, note = "?", "-", f"namespace-unverified ({reg} is in no list)"
        else:
            label, rel, note = "-", "-", f"other-namespace ({reg})"
        rows.append((coord, url, label, rel, note))
    with out.open("w", encoding="utf-8") as fh:
        fh.write(f"# Maven coordinates read from public pages (URL per row); labels from groupId ownership via "
                 f"generated/domains.json @{table['commit'][:12]}; built by bench/accuracy/build_maven.py\n")
        fh.write("coordinate\tseen_at\texpected_family\texpected_relation\tlabel_note\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")
    print(f"{out}: {len(rows)} coordinates, {sum(1 for r in rows if r[2] not in '-?')} positives", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
