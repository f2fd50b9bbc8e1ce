"""A page whose article a script builds from an inline JSON state (issue 21),
with furniture that churns on every fetch: a clock, a view counter and a
"most read" list, all put into the page by the script too."""

from __future__ import annotations

import json

TITLE = "الحكومة تعلن خطة جديدة لدعم المزارعين في المحافظات الجنوبية"
BODY = [
    "أعلنت الحكومة اليوم عن خطة جديدة لدعم المزارعين في المحافظات الجنوبية بقيمة 250 مليون دولار على مدى ثلاث سنوات.",
    "وقال وزير الزراعة في مؤتمر صحفي إن الخطة تشمل توزيع البذور المحسنة وتأهيل قنوات الري وتقديم قروض ميسرة.",
    "وأضاف الوزير أن المرحلة الأولى ستبدأ مطلع الشهر المقبل وتستهدف نحو عشرين ألف مزارع في خمس محافظات.",
    "ورحب اتحاد المزارعين بالخطة، مطالبا بآلية رقابة واضحة تضمن وصول الدعم إلى مستحقيه دون تأخير.",
    "ويعاني القطاع الزراعي منذ سنوات من شح المياه وارتفاع تكاليف الإنتاج وتراجع أسعار المحاصيل المحلية.",
]


def scripted_page(round_: int, body: list[str] | None = None, extra_script: str = "") -> bytes:
    """The server's document: no article text in the markup, only the state
    and the script that renders it. `round_` churns the furniture."""
    state = {
        "headline": TITLE,
        "paragraphs": body or BODY,
        "views": 1000 + 37 * round_,
        "clock": f"{8 + round_ % 12:02d}:{(round_ * 7) % 60:02d}",
        "mostRead": [f"خبر شائع رقم {round_ + i}" for i in range(3)],
    }
    blob = json.dumps(state, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{TITLE}</title></head>
<body>
<header><nav id="nav"></nav><span id="clock"></span></header>
<div id="root"></div>
<aside id="most-read"></aside>
<footer>© الصحيفة</footer>
<script id="__INITIAL_STATE__" type="application/json">{blob}</script>
<script>
const s = JSON.parse(document.getElementById('__INITIAL_STATE__').textContent);
document.getElementById('clock').textContent = 'الساعة ' + s.clock;
const root = document.getElementById('root');
const art = document.createElement('article');
const h = document.createElement('h1'); h.textContent = s.headline; art.appendChild(h);
const meta = document.createElement('div'); meta.className = 'views';
meta.textContent = 'المشاهدات: ' + s.views; art.appendChild(meta);
for (const t of s.paragraphs) {{ const p = document.createElement('p'); p.textContent = t; art.appendChild(p); }}
root.appendChild(art);
const aside = document.getElementById('most-read');
for (const t of s.mostRead) {{ const li = document.createElement('a'); li.href = '/other'; li.textContent = t; aside.appendChild(li); }}
{extra_script}
</script>
</body></html>""".encode()


def plain_page(round_: int, body: list[str] | None = None) -> bytes:
    """The same article and furniture, put in the markup by the server."""
    paragraphs = "".join(f"<p>{t}</p>" for t in body or BODY)
    most = "".join(f'<a href="/other">خبر شائع رقم {round_ + i}</a>' for i in range(3))
    return f"""<!doctype html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{TITLE}</title></head>
<body>
<header><nav id="nav"></nav><span id="clock">الساعة {8 + round_ % 12:02d}:{(round_ * 7) % 60:02d}</span></header>
<div id="root"><article><h1>{TITLE}</h1><div class="views">المشاهدات: {1000 + 37 * round_}</div>
{paragraphs}</article></div>
<aside id="most-read">{most}</aside>
<footer>© الصحيفة</footer>
</body></html>""".encode()
