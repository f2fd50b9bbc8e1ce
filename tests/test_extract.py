"""Extraction on the corpus pages: what must be kept, what must not."""

from __future__ import annotations

import re

import lxml.html
import pytest

from raqib.extract.article import extract
from raqib.extract.notices import notices
from raqib.extract.page import SAME, analyze, make_page
from raqib.extract.results import EXTRACTOR, Article, NotArticle
from tests.conftest import CORPUS, require_shared


def page(name: str, encoding: str = "utf-8") -> str:
    require_shared()
    return (CORPUS / "pages" / name).read_bytes().decode(encoding)


def test_seed_article_fields() -> None:
    a = extract(page("seed/01-original.html"), "http://127.0.0.1/sada/x/")
    assert isinstance(a, Article)
    assert (
        a.title
        == "الولايات المتحدة والعراق يتفقان على بدء محادثات لإنهاء وجود التحالف الذي تقوده الولايات المتحدة"
    )
    assert a.byline == "فريق التحرير"
    assert a.published == "2024-01-25T18:00:00+03:00"
    assert a.modified is None
    assert len(a.paragraphs) == 12
    text = "\n".join(a.paragraphs)
    assert "لويد أوستن" in text
    for furniture in (
        "الأكثر قراءة",
        "اترك تعليقك",
        "شوهد",
        "جميع الحقوق محفوظة",
        "اشترك في الباقة",
        "مقالات ذات صلة",
        "عاجل",
    ):
        assert furniture not in text, furniture


def test_jsonld_byline_and_dates_win() -> None:
    a = extract(page("oil/03-correction.html"))
    assert isinstance(a, Article)
    assert a.byline == "بغداد - سلمى الكبيسي"  # JSON-LD, not trafilatura's split "بغداد"
    assert a.modified == "2024-01-25T13:40:00+03:00"
    assert a.notices == (
        "تصحيح: ورد في نسخة سابقة من هذا التقرير أن الصادرات بلغت 3.5 مليون برميل يوميا، والصحيح 3.3 مليون برميل يوميا.",
    )


def test_update_line_outside_the_body_is_a_notice() -> None:
    a = extract(page("seed/06-announced-update.html"))
    assert isinstance(a, Article)
    assert a.notices == ("آخر تحديث: 26 يناير 2024 - 10:30",)
    assert a.modified == "2024-01-26T10:30:00+03:00"
    assert all("آخر تحديث" not in p for p in a.paragraphs)


@pytest.mark.parametrize(
    ("line", "notice"),
    [
        ("ملاحظة: تم تصحيح رقم الصادرات الوارد في نسخة سابقة من هذا الخبر.", True),
        ("صُحّح هذا الخبر لتعديل رقم الصادرات.", True),
        ("(تم تحديث هذا الخبر)", True),
        ("<em>* صحح هذا الخبر لتعديل رقم الصادرات.</em> وقال المتحدث إن الصادرات سترتفع.", True),
        ("استدراك: ورد خطأ في رقم الصادرات وتم تعديله.", True),
        ("تحديث ١٠:٣٠", True),
        ("Updated: Jan 5, 2024", True),
        ("This story has been corrected to reflect the right figure.", True),
        # Keywords that open ordinary sentences, with figures but no date or time:
        ("تحديث المصافي الجنوبية سيكلف 3 مليارات دولار خلال عامين.", False),
        ("تصحيح المسار الاقتصادي يتطلب 3 سنوات.", False),
        ("تم تحديث المصافي في عام 2020 بكلفة كبيرة.", False),
        ("This article explains the talks.", False),
        ("ملاحظة: هذا التقرير يعتمد على بيانات وزارة النفط.", False),  # a note, not an edit
        ("عدل البرلمان هذه المادة مرتين منذ عام 2005 وتم تعديلها.", False),  # a law's article
        ("حدث هذا الخبر في بغداد.", False),  # حدث: "happened"
        ("تحديث 1.5-2 مليار دولار من المساعدات", False),  # a range, not a date
        ("تحديث 3.25 مليون برميل يوميا", False),  # a figure, not 3:25 pm (م)
        ("تحديث 10.30 م", True),
        ("Updated at 15.30 GMT", True),
        ("Note: an earlier version misstated the figure.", True),
        # As Arabic sites write them (a fact-checker's hunt on the real pages):
        ("تم تحديث الخبر", True),
        ("(تم تحديث الخبر في الساعة 14:30)", True),
        ("تم تصحيح الخبر بعد التواصل مع مدير أعمال الفنانة", True),
        ("* جرى تحديث هذا الخبر بمعلومات جديدة", True),
        ("<strong>تصويب:</strong> ورد في نسخة سابقة أن عدد الحقائب 30 والصحيح 40.", True),
        ("تحديث 2: نقلت الفنانة إلى المستشفى للعلاج", True),
        ("<b>ملاحظة المحرر</b> تم تعديل عدد الحقائب بعد مراجعة المصدر.", True),
        ("تصحيح ورد في نسخة سابقة من هذا الخبر رقم خاطئ للوفيات", True),
        ("آخر تحديث 14:30 بتوقيت مكة المكرمة", True),
        ("اصلاحیه: مقدار تریاک کشف شده در نسخه قبلی خبر اشتباه درج شده بود.", True),
        # Persian's (a Persian copy desk's hunt, then a review): labels before a colon,
        # with words after it that are not a date's; notes naming an earlier version
        # and an error; the article's own passive as the whole line.
        ("به‌روزرسانی: تعداد کشته‌ها به ۱۲ نفر رسید.", True),
        ("بروزرسانی: تعداد کشته‌ها به ۱۲ نفر رسید.", True),
        ("بهروزرسانی: تعداد کشته‌ها به ۱۲ نفر رسید.", True),
        ("ویرایش: رقم کشته‌ها در نسخه قبلی این خبر اشتباه درج شده بود.", True),
        ("تصحیح: نام وزیر اصلاح شد.", False),  # no error named: missed, the lesser error
        ("اصلاحيه: رقم کشته‌ها به اشتباه ۸۰ نفر درج شده بود.", True),
        ("خبر تکمیلی: شمار کشته‌ها به ۱۲ نفر رسید.", True),
        ("توضیح سردبیر: در نسخه قبلی این خبر نام وزیر به اشتباه درج شده بود.", True),
        ("این خبر به‌روزرسانی شد.", True),
        ("این خبر به‌روز شده است", True),
        ("این خبر در حال به‌روزرسانی است", True),
        ("اصلاحیه - قانون انتخابات که هفته گذشته تصویب شد - از امروز اجرا می‌شود.", False),
        ("اصلاحیه قانون انتخابات: از امروز اجرا می‌شود", False),
        ("به‌روزرسانی فهرست نامزدها ادامه دارد.", False),
        # Stamps (is_stamp reads no Persian: one that moved would announce the next edit).
        ("به‌روزرسانی: ۲۹ بهمن ۱۳۹۸ - ۱۰:۳۰", False),
        ("بروزرسانی: سه‌شنبه ۲۹ بهمن ۱۳۹۸ ساعت ۱۰:۳۰ به وقت تهران", False),
        ("ویرایش: سید محمد حسینی", False),  # an editor's credit
        ("توضیح: مطالب منتشر شده در این ستون الزاما دیدگاه خبرگزاری نیست", False),
        ("توضیح: این گزارش بر پایه اطلاعات پلیس است.", False),  # a note, not an edit
        ("این گزارش اصلاح شد و برای تصویب نهایی به شورای نگهبان فرستاده شد.", False),
        ("«این خبر اصلاح شد» را سخنگو گفت", False),
        # A second review's: stamps with words besides a date's, prose, an editorial.
        ("به‌روزرسانی: ۲۹ بهمن ۱۴۰۲ ساعت 3 بعد از ظهر", False),
        ("به‌روزرسانی: 29 January 2024 - 10:30 GMT", False),
        ("به‌روزرسانی: ۲۹ بهمن ۱۴۰۲ | کد خبر: ۱۲۳۴۵", False),
        ("به‌روزرسانی: ۱۲ رجب ۱۴۴۵ قمری در ایران", False),
        ("توضیح: اصلاح‌طلبان پیش‌تر اعلام کرده بودند که در انتخابات شرکت می‌کنند", False),
        ("یادداشت سردبیر: چرا دولت باید پاسخ دهد", False),
        ("اصلاح: قانون مالیات بر ارزش افزوده تصویب شد", False),
        # A third review's: relative stamps, "this report" with a common word, prose labels.
        ("به‌روزرسانی: ۲۰ دقیقه قبل", False),
        ("به‌روزرسانی: امروز صبح", False),
        ("به‌روزرسانی: ۳ روز پیش | کد خبر: ۱۲۳۴۵", False),
        ("به‌روزرسانی: ۱۲ آگوست ۲۰۲۴ - کد خبر ۱۲۳", False),
        ("توضیح: این گزارش درباره طرح اصلاح قانون انتخابات است.", False),
        ("توضیح: این خبر در پاسخ به ادعای نادرست یک رسانه خارجی منتشر می‌شود.", False),
        ("تصحیح: کتابی از محمدرضا شفیعی کدکنی منتشر شد", False),
        ("اصلاحیه: قانون مالیات بر ارزش افزوده تصویب شد", False),
        ("تکمیلی: طرح جامع حمل و نقل شهری", False),
        ("تصحیح: نام وزیر به اشتباه درج شده بود.", True),
        # A fourth review's: a teaser's link after the label, a law's, a book's, a grading.
        ("اصلاحیه: <a href='/news/1'>نام وزیر به اشتباه درج شد</a>", False),
        ("اصلاحیه: لایحه اصلاح قانون مالیات‌ها به مجلس رفت", False),
        ("تصحیح: اوراق امتحانی نهایی بدون خطا انجام شد", False),
        ("توضیح: نسخه قبلی نرم‌افزار خطا داشت و به‌روز شد", False),
        ("به‌روزرسانی: چند ثانیه پیش", False),
        ("به‌روزرسانی: ۲۹ حوت ۱۴۰۲ هجری خورشیدی", False),
        ("به‌روزرسانی: شمار کشته‌ها به ۱۲ نفر می‌رسد", True),
        # Persian typed with the Arabic yeh went by the Arabic rules (aryanews types so).
        ("توضيح: مطالب این ستون دیدگاه نویسنده است و بازتاب دیدگاه سایت نیست", False),
        ("تصحيح: دیوان حافظ به کوشش قزوینی", False),
        ("تصحيح: در نسخه قبلی این خبر نام وزیر به اشتباه درج شده بود", True),
        ("اصلاحیه: در نسخه قبلی این خبر نام وزیر اشتباهاً محمدی درج شده بود", True),
        ("این خبر را تکذیب کرد.", False),
        # A date in the sentence, not after its keyword: the sentence's own.
        ("تحديث المنظومة الصحية في مصر بدأ في 15 مارس الماضي.", False),
        ("تحديث جدول عروض أفلامها على القناة يبدأ الساعة 10:30 مساء.", False),
        ("توضيح الموقف الرسمي صدر يوم 12 يناير 1990 عن الوزارة.", False),
        ("تم تعديل التقرير السنوي للوزارة في 2020.", False),  # a ministry's report
        ("تحديث 2024: عام الإصلاح الاقتصادي", False),
        # After an icon, and with the punctuation sites put around the label.
        (
            '<i class="icon-alert"></i> تصحيح: ورد في نسخة سابقة أن عدد الحالات 26، والصحيح 28.',
            True,
        ),
        ('<img src="/i/refresh.png"> تحديث: أعلنت الوزارة ارتفاع عدد الحالات', True),
        ("تحديث (19:10 بتوقيت غرينتش): أعلنت الوزارة ارتفاع عدد الحالات", True),
        ("«تحديث» 19:10: أعلنت الوزارة ارتفاع عدد الحالات", True),
        ('<svg viewBox="0 0 9 9"><path d="M0 0"/></svg> تصحيح: الرقم الصحيح 28 لا 26.', True),
        ("<span><i></i></span> تحديث: أعلنت الوزارة ارتفاع عدد الحالات", True),
        ('<a id="upd"></a>تحديث: عدلنا عدد الضحايا بعد مراجعة المصدر', True),
        ("<strong></strong>تصحيح: الرقم الصحيح 28 لا 26.", True),
        # ...and sentences that open so (a reviewer's): a quoted word, a version, a date's.
        ("«تصحيح»: هكذا وصف رئيس الوزراء قرار رفع أسعار الوقود", False),
        ('"توضيح" - كلمة استخدمها المتحدث مرارا في مؤتمره', False),
        ("«تحديث»: كلمة السر في خطاب الرئيس أمس", False),
        ("تحديث (17.4.1) من آبل يصلح ثغرة أمنية خطيرة", False),
        ("تصحيح، 10 مايو ليس موعد الانتخابات كما أعلن سابقا", False),
        ("تحديث، الساعة 19:10: أعلنت الوزارة ارتفاع عدد الحالات", True),
        ("تحديث | 19:10 | أعلنت الوزارة ارتفاع عدد الحالات", True),
        ("[تحديث] أعلنت الوزارة ارتفاع عدد الحالات", True),
        ("«تحديث» جديد لتطبيق واتساب يضيف ميزة الرسائل المؤقتة", False),
        ("تحديث (نظام التشغيل) يصل إلى الهواتف الأسبوع المقبل", False),
        ("تحديث، كما قال الوزير، ضروري للمنظومة الصحية", False),
        ('<i class="icon"></i> تحديث المصافي الجنوبية سيكلف 3 مليارات دولار', False),
        # Wordings a copy desk found unread (announced edits read as silent)...
        ("آخر تعديل: 12:45", True),
        ("تعديل: ورد في نسخة سابقة أن عدد الحالات 26، والصحيح 28.", True),
        ("تحديث (1): أعلنت الوزارة ارتفاع عدد الحالات", True),
        ("التحديث الأول: أعلنت الوزارة ارتفاع عدد الحالات", True),
        ("تصحيح ـ الرقم الصحيح 28 لا 26.", True),
        ("تم تحديث هذه المادة لتصحيح عدد الضحايا", True),
        ("نعتذر عن خطأ ورد في نسخة سابقة من هذا الخبر", True),
        ("اعتذار وتصحيح: ورد اسم الوزير خطأ في نسخة سابقة", True),
        # ...and sentences that open as those do.
        ("تم تعديل هذه المادة من الدستور عام 2014", False),  # a law's article
        ("تعديل الدستور المصري أقر في استفتاء 2019", False),
        ("نعتذر للقراء عن تأخر صدور العدد الأسبوعي", False),  # no earlier version
        ("التحديث الأول للتطبيق يصل الأسبوع المقبل", False),
        ("وبحسب آخر تحديث في 17 مارس، بلغ عدد المتعافين 21 حالة.", False),  # the sentence's
        # A review's: a slash, dots, and تعديل or التحديث before a date open sentences.
        ("تحديث/تطوير البنية التحتية سيكلف 3 مليارات", False),
        ("تعديل 2/3 مواد الدستور يتطلب موافقة ثلثي النواب.", False),
        ("تحديث.. أعلنت الوزارة ارتفاع عدد الحالات", False),  # a headline's style
        ("تعديل.. لا إلغاء: هكذا وصف الوزير القرار", False),
        ("التحديث... الذي طال انتظاره وصل إلى الهواتف", False),
        ("آخر تعديل في 15 مارس الماضي شمل 3 وزارات سيادية.", False),
        ("التحديث الأخير في 10 مايو أضاف ميزات أمنية", False),
        ("تعديل 12 مايو على قانون الانتخابات ألغى الكوتا.", False),
        ("تعديل - وزاري مرتقب خلال أيام", False),
        ("«نعتذر عن الخطأ الوارد في النسخة السابقة من البيان»، قال الوزير", False),
        ("نعتذر عن تأخر هذا التقرير بسبب تحديث الأنظمة.", False),
        ("نأسف لأن النسخة السابقة من الاتفاق لم تتضمن تعديل البند 5، قال المفاوض.", False),
        ("تم تعديل هذه المادة لإضافة شرط يمنع الترشح لأكثر من ولايتين.", False),
        ("آخر تعديل (2): أضيف تصريح الوزير", True),
        # The third review's: a dash after these labels opens prose as often.
        ("التحديث الأخير - الذي أصدرته الشركة الشهر الماضي - تسبب في مشكلات البطارية.", False),
        ("آخر تعديل - وهو الثالث منذ تشكيل الحكومة - شمل خمس وزارات.", False),
        # The second review's: a sentence with "في آخر تحديث" and its date is no stamp.
        ("سجلت الوزارة 1500 إصابة في آخر تحديث يوم 17 مارس", False),
        ("بلغ العدد 21 آخر تحديث 17 مارس", False),
        ("نشرت الوزارة أمس الساعة 10 آخر تحديث 17 مارس - وبلغ عدد المتعافين 21", False),
        # A stamp after a dash, to a bar (a copy desk's, unread); prose after one is none.
        ("آخر تعديل - 14:00", True),
        ("اخر تعديل — 17 مارس 2024 14:00 | طباعة", True),
        ("آخر تعديل - في 15 مارس - شمل 3 وزارات.", False),
        # An apology for a fault is no correction, unless it names an earlier version.
        ("نعتذر عن تأخر نشر هذا الخبر بسبب خطأ فني.", False),
        ("نعتذر عن تأخر نشر هذا الخبر بسبب الخطأ التقنى.", False),
        ("نعتذر عن خطأ فني أدى إلى نشر نسخة سابقة غير مكتملة من هذا الخبر", True),
        ("نأسف لخطأ فني في هذا الخبر، وتم تصحيح اسم الوزير.", True),
        ("نعتذر عن خطأ فني في هذا الخبر أدى إلى نشر رقم غير صحيح.", True),
        ("نعتذر عن خطأ فني حال دون ظهور هذا الخبر بالشكل الصحيح.", False),  # the second review's
        ("نأسف لخطأ فني في عرض الصور في هذا الخبر وقد تم تصحيح المشكلة.", False),
        ("نعتذر عن نشر معلومة خاطئة في هذا الخبر، وتم تصحيحها.", True),  # the third review's
        ("نعتذر عن ورود معلومات غير صحيحة في هذا الخبر.", True),
        ("نعتذر، ورد في نسخة سابقة من هذا الخبر أن الوزير استقال، والصحيح أنه أقيل.", True),
        # The fourth review's: a display's or a service's trouble is no correction.
        ("نعتذر عن عدم ظهور هذا الخبر بالشكل الصحيح.", False),
        ("نعتذر عن عطل في عرض الصور في هذا الخبر وقد تم تصحيح المشكلة.", False),
        ("نعتذر عن نشر هذا الخبر في القسم غير الصحيح.", False),
        ("نعتذر عن الرابط الخاطئ في هذا الخبر.", False),
        ("نعتذر عن خطأ في تحميل الصفحة في هذا الخبر.", False),  # the fifth review's
        ("نعتذر عن الخطأ في عرض هذا الخبر.", False),
        ("نعتذر عن خطأ برمجي في هذا الخبر.", False),
        ("نعتذر عن عدم ظهور هذا الخبر بالشكل الصحيح في نسخة سابقة.", False),
        ("نعتذر لقرائنا عن خطأ في اسم الوزير في هذا الخبر.", True),
    ],
)
@pytest.mark.parametrize("layout", ["paragraphs", "lines", "first line"])
def test_an_update_or_correction_notice_and_a_sentence_that_only_opens_like_one(
    line: str, notice: bool, layout: str
) -> None:
    """A line in a paragraph of its own, or one of a paragraph's lines (<br>,
    as youm7 and alyaum write their articles): the correction in a long
    paragraph of lines was no notice, so an announced edit was silent."""
    long = "وأضاف أن الوزارة خصصت ميزانية إضافية لدعم البرنامج وتوسيع نطاقه. " * 6
    body = {
        "paragraphs": "".join(f"<p>{s}</p>" for s in ("نص الخبر الأول هنا.", line, "فقرة أخيرة.")),
        "lines": f"<p>نص الخبر الأول هنا.<br />\n{long}<br />\n{line}<br />\n{long}</p>",
        "first line": f"<p>{line}<br>{long}<br><b>{long}</b></p>",
    }[layout]
    root = lxml.html.fromstring(f"<html><body><article>{body}</article></body></html>")
    assert bool(notices(root)) is notice
    if notice:
        (found,) = notices(root)
        assert len(found) < len(long)


def test_a_persian_notice_with_its_half_space_is_read_through_extraction() -> None:
    """A review: ZWNJ travels through extraction as a stand-in, so به‌روزرسانی
    (its usual spelling) was read on the raw tree and never in a snapshot, and
    the region check, reading the raw tree, never found the page the same."""
    from raqib.extract.page import SAME, analyze

    paras = "".join(f"<p>{p}</p>" for p in XSS_FREE_PARAGRAPHS)
    for line in (
        "به\u200cروزرسانی: تعداد کشته\u200cها به ۱۲ نفر رسید.",
        "این خبر به&zwnj;روزرسانی شد.",
    ):
        html = (
            f"<html><body><article><h1>عنوان الخبر</h1>{paras}<p>{line}</p></article></body></html>"
        )
        made = analyze(html, "https://news.example/a/1", None)
        assert not isinstance(made, NotArticle | type(SAME)) and made.region is not None
        assert len(made.snapshot.notices) == 1 and "روزرسانی" in made.snapshot.notices[0], line
        assert "\u200c" in made.snapshot.notices[0]  # restored, not the stand-in
        assert analyze(html, "https://news.example/a/1", made.region) is SAME


def test_each_update_of_a_live_story_and_a_pages_stamp_line_are_notices() -> None:
    """Two bold "تحديث:" labels were both the bare label, so a second update
    compared equal to the first and its edit read as silent; CNN Arabic's
    stamp line holds "آخر تحديث 14:00" after the date."""
    updates = (
        "<p><strong>تحديث:</strong> أكدت مصادر أن الفنانة بخير.</p>"
        "<p><strong>تحديث:</strong> نقلت الفنانة إلى المستشفى للعلاج</p>"
    )
    stamp = (
        '<div class="cnn_strytmstmp">الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)</div>'
    )
    body = f"<h1>عنوان</h1>{stamp}<p>نص الخبر الأول هنا.</p>{updates}"
    root = lxml.html.fromstring(f"<html><body><article>{body}</article></body></html>")
    assert notices(root) == [
        "الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)",
        "تحديث: أكدت مصادر أن الفنانة بخير.",
        "تحديث: نقلت الفنانة إلى المستشفى للعلاج",
    ]


def test_dates_of_another_story_are_not_the_pages() -> None:
    """A sidebar's <time class="updated"> and a related story's JSON-LD after
    the page's own: read as the page's modified date, a silent edit was
    announced (a copy desk's pages, WordPress's markup)."""
    from raqib.extract.pagemeta import read

    own = (
        '{"@type": "NewsArticle", "url": "https://a.example/news/1", "dateModified": "2024-01-01"}'
    )
    other = (
        '{"@type": "NewsArticle", "url": "https://a.example/news/2", "dateModified": "2024-03-03"}'
    )
    bare = '{"@type": "NewsArticle", "dateModified": "2024-02-02"}'
    link = '<link rel="canonical" href="https://a.example/news/1">'

    def modified(head: str, body: str = "") -> str | None:
        page = f"<html><head>{head}</head><body><article><p>نص</p></article>{body}</body></html>"
        return read(lxml.html.fromstring(page)).modified

    ld = '<script type="application/ld+json">{}</script>'.format
    assert modified(link + ld(own) + ld(other)) == "2024-01-01"
    assert modified(link + ld(other) + ld(own)) == "2024-01-01"  # its address is another's
    assert modified(ld(own) + ld(bare)) == "2024-01-01"  # no canonical link: the first
    assert modified(ld(f"[{bare}, {own}]")) == "2024-02-02"
    # ...and, a review's, the page's own object however its address is written.
    slug = "https://a.example/news/1/%D8%AE%D8%A8%D8%B1"
    for itself in (
        '{"@id": "6291787"}',  # a bare id (alyaum)
        '"https://a.example/news/1/خبر"',  # the canonical link's address, not encoded
        '"https://a.example/news/1"',  # the path without its slug
        '"https://a.example/?p=1"',  # a query
        '"https://a.example/amp/news/1/%d8%ae%d8%a8%d8%b1"',  # its AMP page, lower case
    ):
        obj = f'{{"@type": "NewsArticle", "mainEntityOfPage": {itself}, "dateModified": "2024-04-04"}}'
        canonical = f'<link rel="canonical" href="{slug}">'
        assert modified(canonical + ld(obj)) == "2024-04-04", itself
    by_query = '<link rel="canonical" href="https://a.example/article.php?id=1">'
    related = '{"@type": "NewsArticle", "url": "https://a.example/article.php?id=2", "dateModified": "2024-03-03"}'
    itself = related.replace("id=2", "id=1").replace("03-03", "01-01")
    assert modified(by_query + ld(related) + ld(itself)) == "2024-01-01"  # apart by its query
    graph = (  # Rank Math: the WebPage first, then the article
        '{"@graph": [{"@type": "WebPage", "dateModified": "2024-06-06"},'
        ' {"@type": "NewsArticle", "dateModified": "2024-07-07"}]}'
    )
    assert modified(ld(graph)) == "2024-07-07"
    sidebar = (
        '<aside class="sidebar widget"><li><a href="/n/2">خبر آخر</a> '
        '<time class="entry-date published updated" datetime="2024-05-05T10:00">x</time></li></aside>'
    )
    assert modified("", sidebar) is None
    assert modified("", sidebar.replace("aside", "div").replace("sidebar widget", "entry")) == (
        "2024-05-05T10:00"
    )
    # The article's own footer, and a wrapper named for a sidebar with no list in it.
    footer = '<footer><time class="updated" datetime="2024-08-08T10:00">x</time></footer>'
    page = f"<html><body><article><p>نص</p>{footer}</article></body></html>"
    assert read(lxml.html.fromstring(page)).modified == "2024-08-08T10:00"
    wrap = '<div class="content-sidebar-wrap"><article><p>نص</p><time class="updated" datetime="2024-09-09">'
    page = f"<html><body>{wrap}</time></article></div></body></html>"
    assert read(lxml.html.fromstring(page)).modified == "2024-09-09"
    # A related story's card, its link further up; a related list inside the article.
    card = (
        "<aside class='sidebar related'><ul><li><a href='/n/2'><h3>خبر آخر</h3></a>"
        "<div class='meta'><span><time class='updated' datetime='2024-05-05'>x</time></span>"
        "</div></li></ul></aside>"
    )
    assert modified("", card) is None
    inside = "<div class='related-posts'><ul><li><a href='/n/2'>خبر</a><time class='updated' datetime='2024-05-05'>x</time></li></ul></div>"
    page = f"<html><body><article><h1>عنوان</h1><p>نص</p>{inside}</article></body></html>"
    assert read(lxml.html.fromstring(page)).modified is None
    # Paths compared by segment: /news/1234 is not /news/123's.
    near = '{"@type": "NewsArticle", "url": "https://a.example/news/1234", "dateModified": "2024-05-05"}'
    mine = '{"@type": "NewsArticle", "url": "https://a.example/news/123"}'
    assert (
        modified('<link rel="canonical" href="https://a.example/news/123">' + ld(mine) + ld(near))
        is None
    )
    # A live blog's own object before its updates' (BlogPosting, no address).
    live = (
        '[{"@type": "LiveBlogPosting", "dateModified": "2024-01-01"},'
        ' {"@type": "BlogPosting", "dateModified": "2024-05-05"}]'
    )
    assert modified(ld(live)) == "2024-01-01"
    # The third review's: the article's own footer boxes keep its date; a list of
    # <article> cards is another story's; a stranger's addresses are no error.
    for box in ("post-footer", "entry-footer", "meta social-bar", "breaking-news-date"):
        own_box = f"<div class='{box}'><time class='updated' datetime='2024-05-05'>x</time></div>"
        page = f"<html><body><article><h1>t</h1><p>نص</p>{own_box}</article></body></html>"
        assert read(lxml.html.fromstring(page)).modified == "2024-05-05", box
    cards = (
        "<aside class='related'><article><a href='/n/2'>خبر</a>"
        "<time class='updated' datetime='2024-05-05'>x</time></article></aside>"
    )
    assert modified("", cards) is None
    # The site's header, its clock in a <time class="updated"> (a copy desk's: every
    # edit announced); a header inside the article, or on a page with no headline, kept.
    clock = (
        "<header class='top'><time class='updated' datetime='2026-12-07'>الاثنين</time></header>"
    )
    for wrapped in (clock, f"<div id='masthead'>{clock.replace('header', 'div')}</div>"):
        page = f"<html><body><div>{wrapped}<div><h1>t</h1><p>نص</p></div></div></body></html>"
        assert read(lxml.html.fromstring(page)).modified is None, wrapped
    page = f"<html><body><article>{clock}<h1>t</h1><p>نص</p></article></body></html>"
    assert read(lxml.html.fromstring(page)).modified == "2026-12-07"
    assert modified("", clock) == "2026-12-07"
    # A review's: the header named "header"; the site's footer; a header after the headline
    # (the post's meta) is the article's.
    site = "<div id='header'><time class='updated' datetime='2026-12-07'>x</time></div>"
    after = "<footer id='colophon'><time class='updated' datetime='2026-12-07'>x</time></footer>"
    for before, rest in ((site, ""), ("", after)):
        page = f"<html><body><div>{before}<div><h1>t</h1><p>نص</p></div>{rest}</div></body></html>"
        assert read(lxml.html.fromstring(page)).modified is None, before + rest
    # The third review's: WordPress's body "single", a wrapper "story-wrapper", a site footer.
    clock = (
        "<header class='site-header'><time class='updated' datetime='2026-12-07'>x</time></header>"
    )
    page = f"<html><body class='single single-post'>{clock}<div class='content'><h1>t</h1></div></body></html>"
    assert read(lxml.html.fromstring(page)).modified is None
    foot = (
        "<footer class='site-footer'><time class='updated' datetime='2026-12-07'>x</time></footer>"
    )
    page = f"<html><body><div class='story-wrapper'><div><h1>t</h1></div>{foot}</div></body></html>"
    assert read(lxml.html.fromstring(page)).modified is None
    # The fourth review's: the site's header holding its logo's <h1>.
    logo = clock.replace("<time", "<h1 class='site-title'>موقع</h1><time")
    page = f"<html><body>{logo}<div><h1>t</h1><p>نص</p></div></body></html>"
    assert read(lxml.html.fromstring(page)).modified is None
    page = page.replace("site-header", "main-header")  # the fifth review's: any site header
    assert read(lxml.html.fromstring(page)).modified is None
    # ...but a header holding the only <h1>, or one named "composite", is the article's.
    own = "<header class='composite'><h1>t</h1><time class='updated' datetime='2024-05-05'>x</time></header>"
    assert read(lxml.html.fromstring(f"<html><body>{own}<p>نص</p></body></html>")).modified == (
        "2024-05-05"
    )
    # The second review's: a footer or header beside the headline in the post's own element.
    for post in ("<div class='post'>", "<div class='single'>"):
        footer = "<footer><time class='updated' datetime='2024-05-05'>x</time></footer>"
        page = f"<html><body>{post}<h1>t</h1><p>نص</p>{footer}</div></body></html>"
        assert read(lxml.html.fromstring(page)).modified == "2024-05-05", post
    meta = "<header class='meta'><time class='updated' datetime='2024-05-05'>x</time></header>"
    page = f"<html><body><div><header><h1>t</h1></header><div>{meta}<p>نص</p></div></div></body></html>"
    assert read(lxml.html.fromstring(page)).modified == "2024-05-05"
    ipv6 = '{"@type": "NewsArticle", "url": "//[::1/x", "dateModified": "2024-01-01"}'
    assert modified(link + ld(ipv6)) == "2024-01-01"
    rooted = '{"@type": "NewsArticle", "url": "/a", "dateModified": "2024-01-01"}'
    assert modified('<link rel="canonical" href="http://[::1/x">' + ld(rooted)) == "2024-01-01"
    # JSON nested past what Python reads: ignored, not an error.
    assert modified(ld("[" * 100_000 + "]" * 100_000)) is None


@pytest.mark.parametrize(
    ("line", "stamp"),
    [
        ("الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)", None),
        ("الأربعاء 28 أغسطس 2013 م آخر تحديث 14:00", None),
        ("نشر في 10:00 ص آخر تحديث 14:00", "آخر تحديث 14:00"),
        ("نشر منذ ساعتين آخر تحديث 14:00", "آخر تحديث 14:00"),
        ("بتوقيت غرينتش آخر تحديث 14:00", None),
        ("28 أغسطس 2013 - آخر تحديث: 14:00 · قراءة 3 دقائق", "28 أغسطس 2013 - آخر تحديث: 14:00"),
        ("خبر | آخر تحديث: 14:00 | طباعة", "آخر تحديث: 14:00"),
        ("نشر في 07 أكتوبر 2020 - 12:09م آخر تحديث 14:00", "آخر تحديث 14:00"),
        ("نشر 10:00 (GMT+3) آخر تحديث 12:00 (GMT+3)", "آخر تحديث 12:00 (GMT+3)"),
        ("نشر 10:00 بتوقيت مكة آخر تحديث 12:00", "آخر تحديث 12:00"),
        ("تاريخ النشر: 07/10/2020 آخر تحديث: 08/10/2020 - قراءة 3 دقائق", "آخر تحديث: 08/10/2020"),
        # A review's: what else the line says is no notice (its edit announced itself).
        ("تم تسجيل 1500 إصابة جديدة، آخر تحديث 18:00", "آخر تحديث 18:00"),
        ("آخر تعديل - 25 يناير 2021 | رفع سن التقاعد إلى 62 عاما", "آخر تعديل - 25 يناير 2021"),
        # The second review's: on past a dash while a stamp's words go on.
        ("الثلاثاء 12 مارس 2024 - آخر تحديث: 12 مارس 2024 - 14:00", None),
    ],
)
def test_a_pages_stamp_line_inside_a_line_is_a_notice(line: str, stamp: str | None) -> None:
    """The stamp after a date, a time's or a zone's word or a separator, with
    only a stamp's words up to the next separator (a review of the rule that
    keeps "وبحسب آخر تحديث في 17 مارس، بلغ..." the sentence's). The notice is
    the line up to there if it is all a stamp's words, else the stamp alone."""
    for html in (f"<div>{line}</div>", f"<ul><li>{line}</li></ul>"):
        root = lxml.html.fromstring(
            f"<html><body><article><p>نص الخبر.</p>{html}</article></body></html>"
        )
        assert notices(root) == [stamp or line]


def test_a_notice_after_a_stamp_in_its_line_is_read() -> None:
    """The stamp alone is the stamp's notice; a correction after it on the same
    line is one of its own (the second review's)."""
    line = "السبت 16/03/2024 - آخر تحديث 16:45 - تحديث: تم تعديل عدد الضحايا"
    root = lxml.html.fromstring(
        f"<html><body><article><p>نص.</p><div>{line}</div></article></body></html>"
    )
    assert notices(root) == ["السبت 16/03/2024 - آخر تحديث 16:45", "تحديث: تم تعديل عدد الضحايا"]


@pytest.mark.parametrize(
    "box",
    [
        '<p><span class="tag">تحديث:</span> <a href="/n/2">ارتفاع عدد الضحايا إلى 12</a></p>',
        '<p>نص.<br><span>تحديث:</span> <a href="/n/2">ارتفاع عدد الضحايا إلى 12</a><br>نص.</p>',
        '<div class="latest-news"><p>آخر تحديث: 12:45</p></div>',
        '<div class="latest_posts"><p>تصحيح: الرقم الصحيح 28 لا 26.</p></div>',
    ],
)
def test_a_teaser_or_a_list_of_other_stories_holds_no_notice(box: str) -> None:
    """A copy desk's pages: a "latest news" box beside the article, and a
    teaser whose label sits outside its link, announced a silent edit."""
    root = lxml.html.fromstring(
        f"<html><body><article><p>نص الخبر.</p>{box}</article></body></html>"
    )
    assert notices(root) == []


@pytest.mark.parametrize(
    "lines",
    [
        "تحديث بيانات بطاقات التموين يبدأ 15 مارس في كل المحافظات.",
        "تصحيح المسار الاقتصادي بدأ منذ 3 يوليو 2013.",
        "تحديث الأسعار الساعة 10:30 من صباح كل يوم.",
        "وقال الوزير إن<br>تحديث المنظومة سيتم في 15 مارس.",
        '<a href="/other">تحديث: ارتفاع عدد الضحايا إلى 12<br>اقرأ أيضا</a>',
        'اقرأ أيضا:<br><a href="/other">تحديث: ارتفاع عدد الضحايا إلى 12</a>',
    ],
)
def test_a_line_among_lines_that_only_opens_like_a_notice_is_none(lines: str) -> None:
    """Lines of an article written as lines: a keyword and a date (a sentence
    about updating ration cards on 15 March) would announce the edit of that
    very date; a teaser of lines inside a link names another page."""
    long = "وأضاف أن الوزارة خصصت ميزانية إضافية لدعم البرنامج وتوسيع نطاقه. " * 6
    body = f"<p>{long}<br>{lines}<br>{long}</p>"
    root = lxml.html.fromstring(f"<html><body><article>{body}</article></body></html>")
    assert notices(root) == []


def test_windows_1256_page_decoded_gives_the_same_snapshot() -> None:
    utf8 = make_page(page("seed/07-paragraph-removed.html"), None)
    cp1256 = make_page(page("seed/08-windows-1256.html", "cp1256"), None)
    assert not isinstance(utf8, NotArticle) and not isinstance(cp1256, NotArticle)
    assert utf8.snapshot.content_hash == cp1256.snapshot.content_hash


def test_invisible_characters_do_not_change_the_snapshot() -> None:
    before = make_page(page("seed/03-cosmetic.html"), None)
    after = make_page(page("seed/04-invisible.html"), None)
    assert not isinstance(before, NotArticle) and not isinstance(after, NotArticle)
    assert before.snapshot.content_hash == after.snapshot.content_hash
    assert before.snapshot.text == after.snapshot.text


def test_an_inline_drawing_does_not_count_toward_the_page_size() -> None:
    """An SVG map of 60,000 shapes beside a real article is read as the
    article, as it reads without the map, and its region check passes
    against the region found without it."""
    url = "http://127.0.0.1/sada/x/"
    plain = page("seed/01-original.html")
    shapes = '<path d="M0 0"/>' * 60_000
    html = plain.replace("</body>", f"<svg><g>{shapes}</g><svg>{shapes}</svg></svg></body>")
    assert isinstance(extract(html, url), Article)
    before, after = analyze(plain, url, None), make_page(html, url)
    assert not isinstance(before, NotArticle) and not isinstance(after, NotArticle)
    assert after.snapshot == before.snapshot
    assert before.region is not None and analyze(html, url, before.region) is SAME


def test_a_page_past_the_element_bound_is_refused_even_when_its_region_is_unchanged() -> None:
    """The bound holds on refetches too: a watched article whose page grows
    past 50,000 elements outside its region is not read as unchanged (the
    region check would walk the whole page first), but refused, as its first
    fetch would be."""
    url = "http://127.0.0.1/sada/x/"
    plain = page("seed/01-original.html")
    first = analyze(plain, url, None)
    assert not isinstance(first, NotArticle) and first.region is not None
    assert analyze(plain, url, first.region) is SAME
    grown = plain.replace("</body>", "<div>" + "<p>كلمة</p>" * 60_000 + "</div></body>")
    result = analyze(grown, url, first.region)
    assert (
        isinstance(result, NotArticle) and "elements: more than any article page" in result.reason
    )


def test_a_tag_of_a_hundred_thousand_attributes_is_refused_before_it_is_parsed() -> None:
    """libxml2 checks each attribute against the tag's others: one tag of
    160,000 attributes (1.2 MB) took 52 s to parse, and an 8 MB page could
    hold a million. Refused, while a script whose `a<b` runs into a long
    array, or a long JSON attribute, is read as before."""
    url = "http://127.0.0.1/sada/x/"
    plain = page("seed/01-original.html")
    crowded = "<div " + " ".join(f"a{i}" for i in range(160_000)) + ">x</div>"
    html = plain.replace("</body>", crowded + "</body>")
    for result in (extract(html, url), analyze(html, url, None)):
        assert isinstance(result, NotArticle)
        assert result.reason == "a tag of 160,000 attributes: more than any page's (1,000)"
    numbers = ", ".join(str(i) for i in range(50_000))
    script = f"<script>if (a<b) {{ var d = [{numbers}]; }}</script>"
    attribute = "<div data-x='" + '{"a": 1, "b": [1, 2, 3]} ' * 20_000 + "'>x</div>"
    for extra in (script, attribute):
        read = make_page(plain.replace("</body>", extra + "</body>"), url)
        assert not isinstance(read, NotArticle), read
        assert read.snapshot == make_page(plain, url).snapshot  # type: ignore[union-attr]


def test_a_page_that_is_one_large_drawing_is_its_size() -> None:
    """lxml parses a page that is only an <svg> to the drawing itself: it is
    not dropped as a drawing inside the page (that left an empty tree, or a
    copy with no parent that the extraction could not prune), but counted."""
    html = "<svg>" + '<path d="M0 0"/>' * 60_000 + "</svg>"
    for result in (extract(html, None), analyze(html, None, None)):
        assert isinstance(result, NotArticle)
        assert result.reason == "60,003 elements: more than any article page (50,000)"


def test_a_page_of_millions_of_tags_is_refused_before_it_is_parsed() -> None:
    """8 MB of empty SVG shapes parsed into 323 MB, and the extractor then
    walked all 2,000,000 of them for 19 s: refused from its count of tags,
    whether or not they are drawings."""
    for inner in ("<svg>" + "<g/>" * 2_000_000 + "</svg>", "<div>" + "<b>" * 2_000_000 + "</div>"):
        html = page("seed/01-original.html").replace("</body>", inner + "</body>")
        for result in (extract(html, None), analyze(html, None, None)):
            assert isinstance(result, NotArticle)
            assert re.fullmatch(
                r"2,000,\d{3} tags \(or '<'\): more than any article page \(250,000\)",
                result.reason,
            ), result.reason


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("", "empty body"),
        ("<html><body></body></html>", "no article text"),
        (
            "<html><head><title>Just a moment...</title></head><body><p>Checking your browser before accessing the site. Enable JavaScript and cookies to continue.</p></body></html>",
            "bot check",
        ),
        ("<html><body><h1>404</h1><p>الصفحة غير موجودة</p></body></html>", "soft 404"),
        # A stranger's page of tiny paragraphs (html, head, body, article and 60,000 p)
        (
            "<html><body><article>" + "<p>كلمة</p>" * 60_000 + "</article></body></html>",
            "60,003 elements: more than any article page (50,000)",
        ),
    ],
)
def test_not_article(html: str, reason: str) -> None:
    result = extract(html)
    assert isinstance(result, NotArticle)
    assert reason in result.reason


def test_bot_check_page_is_not_an_article() -> None:
    result = extract(page("seed/09-bot-check.html"))
    assert isinstance(result, NotArticle) and "bot check" in result.reason


def test_mojibake_is_not_an_article() -> None:
    original = page("seed/01-original.html")
    latin = original.encode("utf-8").decode("latin-1")  # UTF-8 read as Latin-1: Ø§Ù„
    wrong_arabic = original.encode("utf-8").decode("cp1256", errors="replace")  # ط§ظ„
    for garbled in (latin, wrong_arabic):
        result = extract(garbled)
        assert isinstance(result, NotArticle) and "mojibake" in result.reason


@pytest.mark.parametrize(
    "promo",
    [
        '<p>اقرأ أيضاً: <a href="/x">واشنطن تعلن عن ضربات ضد فصائل في العراق</a></p>'
        '<p><a href="/y">البرلمان العراقي يصوت على قرار بإخراج القوات الأجنبية</a></p>',
        # A label line and a link line (akhbarelyom): the link was article text,
        # and a new promo there a silent substantive edit.
        '<p>اقرأ أيضا:<br><a href="/z">سامية جمال.. قصة أشهر راقصة في مصر</a></p>',
        '<p>اقرأ أيضا:<br>\n<a href="/z">تحية كاريوكا.. أسرار لا تعرفها عنها</a><br></p>',
        '<p>طالع أيضا<br><a href="/z1">سامية جمال.. قصة أشهر راقصة في مصر</a><br>'
        '<a href="/z2">تحية كاريوكا.. أسرار لا تعرفها عنها</a></p>',
    ],
)
def test_in_body_read_also_promos_are_dropped(promo: str) -> None:
    html = page("seed/01-original.html")
    injected = html.replace("<p>وكان للولايات المتحدة", promo + "<p>وكان للولايات المتحدة", 1)
    a, b = make_page(html, None), make_page(injected, None)
    assert not isinstance(a, NotArticle) and not isinstance(b, NotArticle)
    assert a.snapshot.content_hash == b.snapshot.content_hash


@pytest.mark.parametrize(
    "lines",
    [
        'وقال <a href="/p">رئيس الوزراء العراقي محمد شياع السوداني</a> إن المحادثات مستمرة',
        # A link alone on its line among sentences, or opening them: the article's (a reviewer's).
        'وعقد الاجتماع بحضور الوزراء.<br><a href="/s">نص بيان الوزارة الكامل بشأن الاتفاق الجديد</a>'
        "<br>وأضاف المتحدث أن المحادثات مستمرة",
        '<a href="/s">نص بيان الوزارة الكامل بشأن الاتفاق الجديد</a><br>وأضاف المتحدث أن المحادثات',
    ],
)
def test_a_link_among_words_or_sentences_is_prose(lines: str) -> None:
    html = page("seed/01-original.html")
    injected = html.replace(
        "<p>وكان للولايات المتحدة", f"<p>{lines}</p><p>وكان للولايات المتحدة", 1
    )
    b = make_page(injected, None)
    assert not isinstance(b, NotArticle)
    linked = lxml.html.fromstring(f"<p>{lines}</p>").xpath("//a")[0].text_content()
    assert linked in b.snapshot.text


def test_extractor_version_is_recorded() -> None:
    import trafilatura

    assert EXTRACTOR.startswith(f"trafilatura {trafilatura.__version__};")
    assert trafilatura.__version__ == "2.3.1"  # pinned: output changes between releases


def _portal(paragraphs: list[str], *, clock: str, views: int, ad: str, most_read: list[str]) -> str:
    """An old portal: the whole page laid out in nested tables, text in <font>."""
    body = "".join(f'<font face="Arial" size="3">{p}</font><br><br>' for p in paragraphs)
    side = "".join(f'<tr><td><a href="/n/{i}">{t}</a></td></tr>' for i, t in enumerate(most_read))
    return f"""<html><head><title>بوابة الأخبار - الولايات المتحدة والعراق</title></head><body>
<table width="100%" border="0"><tr><td colspan="3">{clock} <a href="/">الرئيسية</a> | <a href="/s">سياسة</a></td></tr>
<tr><td width="150" valign="top"><table>{side}<tr><td>{ad}</td></tr></table></td>
<td valign="top"><table width="100%"><tr><td><b>الولايات المتحدة والعراق يتفقان على بدء محادثات</b></td></tr>
<tr><td>قراءات: {views}</td></tr><tr><td>{body}</td></tr></table></td>
<td width="150"><table><tr><td>الأكثر قراءة</td></tr><tr><td><a href="/c">موضوع آخر</a></td></tr></table></td></tr>
<tr><td colspan="3">جميع الحقوق محفوظة</td></tr></table></body></html>"""


def test_table_layout_portal_extracts_the_article_and_ignores_its_furniture() -> None:
    a = extract(page("seed/01-original.html"))
    assert isinstance(a, Article)
    one = make_page(
        _portal(
            list(a.paragraphs),
            clock="10:00",
            views=1204,
            ad="إعلان: اشترك الآن",
            most_read=["خبر أول في القائمة", "خبر ثان في القائمة"],
        ),
        None,
    )
    two = make_page(
        _portal(
            list(a.paragraphs),
            clock="11:45",
            views=9321,
            ad="عروض الشتاء: سافر بأقل الأسعار",
            most_read=["خبر ثالث جديد تماما", "خبر أول في القائمة"],
        ),
        None,
    )
    assert not isinstance(one, NotArticle) and not isinstance(two, NotArticle)
    # The prose is the article's, nothing else (<br>-separated text may come as one paragraph).
    assert one.snapshot.text.split() == " ".join(a.paragraphs).split()
    assert one.snapshot.content_hash == two.snapshot.content_hash


def test_reader_comments_share_counts_and_tokens_are_not_the_article() -> None:
    html = page("seed/01-original.html")

    def furnished(n: int) -> str:
        comments = "".join(
            f'<li class="comment"><div class="comment-content"><p>تعليق القارئ رقم {i}: هذا خبر مهم جدا ويستحق المتابعة</p></div></li>'
            for i in range(n)
        )
        extra = (
            f'<div class="share-bar"><span class="count">{n * 17} مشاركة</span></div>'
            f'<form><input type="hidden" name="csrf_token" value="tok{n}"></form>'
            f'<div class="ticker">عاجل {n}: انخفاض أسعار الذهب في الأسواق العالمية</div>'
            f'<ol class="comment-list">{comments}</ol>'
        )
        return html.replace(
            '<div id="comments" class="comments-area">',
            f'<div id="comments" class="comments-area">{extra}',
            1,
        )

    a, b = make_page(furnished(2), None), make_page(furnished(9), None)
    assert not isinstance(a, NotArticle) and not isinstance(b, NotArticle)
    assert a.snapshot.content_hash == b.snapshot.content_hash
    assert "تعليق القارئ" not in a.snapshot.text


@pytest.mark.parametrize("written", ["\u200c", "&zwnj;", "&#8204;", "&#x200c;", "&#X200C;"])
def test_persian_zero_width_non_joiner_survives_extraction(written: str) -> None:
    """ZWNJ, however the page writes it, is kept between the words it joins
    (trafilatura would drop it as a non-printing character)."""
    words = f"این{written}ها می{written}خواهند اصلاح{written}طلبان"
    html = (
        "<html><body><article><h1>عنوان خبر</h1>"
        + "".join(f"<p>{words} جمله شماره {i} در این گزارش خبری طولانی است.</p>" for i in range(8))
        + "</article></body></html>"
    )
    a = extract(html)
    assert isinstance(a, Article)
    assert all(
        "این\u200cها می\u200cخواهند اصلاح\u200cطلبان" in p for p in a.paragraphs if "جمله" in p
    )


def test_each_element_above_a_pages_times_is_judged_once(monkeypatch) -> None:
    """A review's page: 500 `<time>`s under 250 nested mastheads took 8 s, each
    time judging every ancestor, and each masthead walking its own ancestors."""
    from raqib.extract import pagemeta, time_tags

    calls: list[object] = []
    kind = time_tags._kind
    monkeypatch.setattr(time_tags, "_kind", lambda node: calls.append(node) or kind(node))
    times = '<time class="updated" datetime="2024-01-01">x</time>' * 500
    nested = '<div class="masthead">' * 250 + times + "</div>" * 250
    root = lxml.html.fromstring(f"<html><body><h1>t</h1><article>{nested}</article></body></html>")
    assert pagemeta.read(root).modified == "2024-01-01"  # inside the article: its own
    assert len(calls) == len(set(calls)) <= sum(1 for _ in root.iter())
    # The second review's: 500 site headers among 48,000 siblings; their order read once.
    orders: list[object] = []
    order = time_tags._order
    monkeypatch.setattr(time_tags, "_order", lambda *a: orders.append(a[0]) or order(*a))
    clocks = '<header><time class="updated" datetime="2024-01-01">x</time></header>' * 500
    root = lxml.html.fromstring(f"<html><body>{'<p></p>' * 48_000}{clocks}<h1>t</h1></body></html>")
    assert pagemeta.read(root).modified is None and len(orders) == 1


def test_a_narrow_grid_column_beside_the_article_is_a_sidebar() -> None:
    """A teaser labelled "تحديث:" and a `<time class="updated">` in a Bootstrap
    sidebar column no class names (`col-md-4` beside `col-md-8`) were the
    article's notice and date: a silent edit announced (a copy desk's). A
    column holding the headline, or a wide one, is the article's."""
    from raqib.extract.pagemeta import read

    side = (
        '<div class="col-md-4 col-12"><div class="box"><p>تحديث: ارتفاع أسعار النفط في الأسواق</p>'
        '<time class="updated" datetime="2026-12-07T10:00">x</time></div></div>'
    )
    article = '<div class="col-md-8"><h1>عنوان</h1><p>نص الخبر هنا.</p>{}</div>'
    own = '<p>تحديث: أضيف تصريح الوزير</p><time class="updated" datetime="2026-12-06">x</time>'

    def page(row: str) -> lxml.html.HtmlElement:
        return lxml.html.fromstring(f'<html><body><div class="row">{row}</div></body></html>')

    for row in (article.format("") + side, side + article.format("")):
        assert (notices(page(row)), read(page(row)).modified) == ([], None), row
    for row in (
        article.format(own) + side,
        side.replace("col-md-4", "col-md-6") + article.format(""),
    ):
        found = (notices(page(row)), read(page(row)).modified)
        assert found[0] and found[0][0].startswith("تحديث:") and found[1], row
    headed = side.replace('<div class="box">', '<div class="box"><h1>عنوان</h1>')
    assert notices(page(headed + '<div class="col-md-8"><p>نص</p></div>'))


def test_counters_inside_the_article_and_furniture_bylines_make_no_version() -> None:
    """Found by the benchmark's churn pass: a view counter inside <article>, and a
    reader comment's author taken for the byline, changed on every fetch."""

    def page(views: int, commenter: str) -> str:
        paras = "".join(f"<p>{p}</p>" for p in XSS_FREE_PARAGRAPHS)
        return (
            '<html lang="ar"><body><table><tr><td><a href="/">الرئيسية</a></td></tr></table>'
            f'<article><span class="views">شوهد {views:,} مرة</span><h1>عنوان الخبر</h1>{paras}</article>'
            f'<ol class="comments"><li class="comment"><div class="comment-author">{commenter}</div>'
            "<p>تعليق قصير من قارئ عن الخبر.</p></li></ol></body></html>"
        )

    a = make_page(page(1204, "سلمى12"), None)
    b = make_page(page(98012, "يوسف7"), None)
    assert not isinstance(a, NotArticle) and not isinstance(b, NotArticle)
    assert a.snapshot.content_hash == b.snapshot.content_hash
    assert "شوهد" not in a.snapshot.text


@pytest.mark.parametrize(
    ("body", "furniture"),
    [
        ('<body class="single right-sidebar">', False),
        ('<body class="menu-options"><form id="f">', False),
        ('<body><div id="wrapper"><form id="form1" action="./News.aspx?id=3">', False),
        ('<body><center><form name="aspnetForm" method="post">', False),
        ('<body><form class="comment-form">', True),  # its classes still say what it is
    ],
)
def test_a_layouts_body_class_or_a_page_wide_form_is_not_furniture(
    body: str, furniture: bool
) -> None:
    """A Persian copy desk's hunt (aryanews, ASP.NET): the whole page sat in
    furniture, and the headline came from og:title, the site's name with it;
    WordPress's body classes ("right-sidebar") did the same."""
    from raqib.extract.header import ledes

    paras = "".join(f"<p>{p}</p>" for p in XSS_FREE_PARAGRAPHS)
    page = (
        '<html><head><meta property="og:title" content="الموقع - عنوان"></head>'
        f"{body}<article><h1>عنوان الخبر الحقيقي</h1><div class='lead'>خلاصه خبر: مجلس امروز "
        f"بودجه را تصویب کرد</div>{paras}</article></body></html>"
    )
    made = make_page(page, None)
    assert not isinstance(made, NotArticle)
    assert (made.snapshot.title == "الموقع - عنوان") is furniture
    lede = ["خلاصه خبر: مجلس امروز بودجه را تصویب کرد"]
    assert (ledes(lxml.html.document_fromstring(page)) == lede) is not furniture


def test_a_persian_count_in_a_tables_cell_is_data() -> None:
    """A review: "۱۲۰۰ نظر" in a poll's table (its votes) was a counter, dropped,
    and the poll's result flipped as a cosmetic change."""

    def page(yes: str, no: str) -> str:
        paras = "".join(f"<p>{p}</p>" for p in XSS_FREE_PARAGRAPHS)
        rows = f"<tr><td>موافق</td><td>{yes} نظر</td></tr><tr><td>مخالف</td><td>{no} نظر</td></tr>"
        return f"<html><body><article><h1>عنوان</h1>{paras}<table>{rows}</table></article></body></html>"

    a, b = make_page(page("۱۲۰۰", "۸۰۰"), None), make_page(page("۸۰۰", "۱۲۰۰"), None)
    assert not isinstance(a, NotArticle) and not isinstance(b, NotArticle)
    assert a.snapshot.content_hash != b.snapshot.content_hash


@pytest.mark.parametrize(
    "counter",
    ['<div class="news-info">تعداد بازدید: {}</div>', "<span>{} بازدید</span>", "<p>{} نظر</p>"],
)
def test_a_persian_counter_inside_the_article_makes_no_version(counter: str) -> None:
    """A Persian copy desk's hunt: "تعداد بازدید: ۱۲۵" → "۱۳۱" was a figure changed."""

    def page(views: str) -> str:
        paras = "".join(f"<p>{p}</p>" for p in XSS_FREE_PARAGRAPHS)
        return f"<html><body><article><h1>عنوان الخبر</h1>{counter.format(views)}{paras}</article></body></html>"

    a, b = make_page(page("۱۲۵"), None), make_page(page("۱۳۱"), None)
    assert not isinstance(a, NotArticle) and not isinstance(b, NotArticle)
    assert a.snapshot.content_hash == b.snapshot.content_hash
    assert "۱۲۵" not in a.snapshot.text and "125" not in a.snapshot.text


XSS_FREE_PARAGRAPHS = [
    "اتفقت الولايات المتحدة والعراق على بدء محادثات حول مستقبل التحالف العسكري الذي تقوده واشنطن في العراق.",
    "وقال وزير الدفاع الأمريكي إن المحادثات ستجري في إطار اللجنة العسكرية العليا التي اتفق عليها البلدان.",
    "وتقول الحكومة العراقية إن مهمة التحالف انتهت، لكنها حريصة على إقامة علاقات ثنائية مع أعضائه.",
]


def test_the_page_is_repaired_as_trafilatura_repairs_it() -> None:
    """Raqib looks for the characters XML forbids before a regex pass over the
    whole page; the characters, and the result, are trafilatura's."""
    from trafilatura.utils import INVALID_XML_CHARS, repair_faulty_html

    from raqib.extract.parsing import XML_INVALID, _repair, clean

    forbidden = {c for c in range(0x110000) if INVALID_XML_CHARS.match(chr(c))}
    assert set(map(ord, XML_INVALID)) == forbidden
    body = "<body><p>نص\u00a0عربي\tمع\nأسطر</p></body></html>"
    pages = [
        "<!DOCTYPE html>\n<html>" + body,
        "<!DOCTYPE html/>\n<html>" + body,
        "<html/>\n" + body,
        '<html lang="ar" />\n<head></head>' + body,
        "<html>" + body.replace("عربي", "عر\x00بي\x1f\ufffe") + "\uffff",
        "<!doctype html>" + body.replace("<p>", "<p>\x08\x0b\x0c"),
        "",
        # A doctype's '/' and '<' in each order, and none closed (its regex
        # is quadratic there: Raqib's reading of it is not).
        *(
            f"{d}\n<html>{body}"
            for d in (
                "< ! DOCTYPE a<b/c>",
                "<!DOCTYPE a/b<c>",
                "<!doctype/>x",
                "<!DOCTYPE <!-- / >",
                "<!DOCTYPE html" + "/" * 300,
                "<!DOCTYPE html" + " /" * 300 + ">",
                "<!DOCTYPE>",
            )
        ),
    ]
    for page in pages:
        beginning = page[:50].lower()
        assert _repair(clean(page), beginning) == repair_faulty_html(page, beginning), page


def test_the_parse_copies_of_trafilatura_are_trafilaturas() -> None:
    """extract.parsing copies what it uses of trafilatura.utils, and
    extract.results reads trafilatura's version from its metadata, so that
    neither imports trafilatura; each copy must stay what it copies."""
    import inspect

    import lxml
    import trafilatura
    from trafilatura import utils

    from raqib.extract import parsing, results

    for name in ("DOCTYPE_TAG", "FAULTY_HTML", "INVALID_XML_CHARS"):
        ours, theirs = getattr(parsing, name), getattr(utils, name)
        assert (ours.pattern, ours.flags) == (theirs.pattern, theirs.flags), name
    last_line = inspect.getsource(utils.is_dubious_html).strip().splitlines()[-1]
    assert last_line.strip() == 'return "html" not in beginning'
    for beginning in ("<!doctype html>", "<html lang=ar>", '{"json": 1}', "", "<HTML>"):
        assert parsing.is_dubious_html(beginning) == utils.is_dubious_html(beginning)
    assert results.EXTRACTOR == (
        f"trafilatura {trafilatura.__version__}; lxml {lxml.__version__}; "
        f"raqib-extract {results.PROFILE}"
    )


def test_class_verdicts_are_remembered_within_bounds() -> None:
    import re

    from raqib.extract import classnames

    verdict = classnames.searcher(re.compile("lede|summary", re.I), unless=re.compile("caption"))
    cases = {
        "post-lede": True,
        "SUMMARY box": True,
        "lede caption": False,  # `unless` wins
        "entry-content": False,
        "x" * (classnames.LONGEST + 1) + " lede": True,  # long: tested, not remembered
        "x" * (classnames.LONGEST + 1): False,
        # A stranger's class string is read as far as any real one names itself.
        "x " * (classnames.MOST // 2 - 3) + "lede": True,
        "x " * (classnames.MOST // 2) + "lede": False,
    }
    for _ in range(2):  # the second round answers from the cache
        assert {s: verdict(s) for s in cases} == cases
    info = verdict.cache_info()  # type: ignore[attr-defined]
    assert info.hits == 4 and info.currsize == 4  # the four short strings only
    for i in range(classnames.SIZE + 50):
        verdict(f"c{i}")
    assert verdict.cache_info().currsize == classnames.SIZE  # type: ignore[attr-defined]


def test_a_page_deeper_than_the_parser_allows_is_flattened_and_no_other() -> None:
    from raqib.extract.parsing import parse

    def nested(depth: int) -> str:
        return (
            "<html><body>" + "<div>" * depth + "<p>deep text</p>" + "</div>" * depth
            + "<p>after</p></body></html>"
        )  # fmt: skip

    deep = parse(nested(300))  # libxml2 stops at 256 levels and drops the rest
    assert "deep text" in deep.text_content() and "after" in deep.text_content()
    # Flattened: the wrappers past MAX_DEPTH are gone, their text kept one level up.
    assert max(len(list(el.iterancestors())) for el in deep.iter()) <= 200
    kept = parse(nested(240))  # within the parser's limit: parsed as written
    assert [p.text for p in kept.iter("p")] == ["deep text", "after"]
    assert len(list(next(kept.iter("p")).iterancestors())) == 240 + 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # a heading with its list beside it, in no marked element
        ("<div><h3>أبرز النقاط</h3><ul>{items}</ul></div>", True),
        # a heading wrapped in a paragraph: the list follows the paragraph
        ("<div><p><strong>باختصار:</strong></p><ol>{items}</ol></div>", True),
        # written with presentation forms and a stray joiner: the same words
        ("<div><h3>\ufe83\ufe91\ufeae\ufeaf النقاط</h3><ul>{items}</ul></div>", True),
        ("<div><h3>أبرز\u200c النقاط</h3><ul>{items}</ul></div>", True),
        # a list after other words is not a summary
        ("<div><h3>مواضيع ذات صلة</h3><ul>{items}</ul></div>", False),
        # the words without a list after them take nothing
        ("<div><h3>أبرز النقاط</h3><p>{para}</p></div>", False),
    ],
)
def test_summary_bullets_are_read_after_their_heading_and_only_there(
    header: str, expected: bool
) -> None:
    from raqib.extract.header import ledes
    from raqib.extract.parsing import parse

    bullet = "بند من بنود الملخص يكفي طوله ليكون سطرا من سطور المقال رقم {}"
    items = "".join(f"<li>{bullet.format(i)}</li>" for i in range(3))
    para = "فقرة عادية بعد العنوان لا تعد ملخصا مهما طالت وكثرت كلماتها في الصفحة"
    html = (
        "<html><body><article>"
        + header.format(items=items, para=para)
        + "<p>نص الخبر</p></article></body></html>"
    )
    got = ledes(parse(html))
    assert got == ([bullet.format(i) for i in range(3)] if expected else [])


_SHORT_TITLE = "المالية تطرح سندات"
_SHORT = [
    "قال وزير المالية إن الحكومة ستطرح سندات بقيمة 2 مليار دولار الشهر المقبل لتمويل العجز في"
    " الموازنة العامة.",
    "وأوضح أن الاكتتاب سيكون متاحا للمصارف المحلية والأجنبية على حد سواء وفق شروط البنك المركزي.",
    "وأشار إلى أن الوزارة تتوقع إقبالا كبيرا من المستثمرين بعد تحسن التصنيف الائتماني للبلاد.",
]


def _short_story(paragraphs: list[str], extra: str = "") -> str:
    ps = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{_SHORT_TITLE}</title><meta property="og:title" content="{_SHORT_TITLE}"></head>
<body><header><a href="/">الموقع</a></header><main><article><h1>{_SHORT_TITLE}</h1>
<div class="entry-content">{ps}{extra}</div></article></main>
<footer>جميع الحقوق محفوظة</footer></body></html>"""


@pytest.mark.parametrize(
    "extra",
    ["", '<div class="post-footer">وسوم: اقتصاد</div>', "<script>var n = 1;</script>"],
)
def test_a_short_story_keeps_its_paragraphs_and_not_its_headline(extra: str) -> None:
    """Under trafilatura's minimum size its rescue glued the article's text,
    headline first, into one paragraph; when the story grew, its paragraphs came
    apart and the headline left the text: an edit nobody made (a trial's R06)."""
    from raqib.diffs.classify import compare

    two, three = (make_page(_short_story(_SHORT[:n], extra), None) for n in (2, 3))
    assert not isinstance(two, NotArticle) and not isinstance(three, NotArticle)
    assert two.snapshot.text.split("\n") == _SHORT[:2]  # no headline, a line a paragraph
    assert three.snapshot.text.split("\n") == _SHORT
    items = compare(two.snapshot, three.snapshot).items
    assert [it.label for it in items if it.label != "unchanged"] == ["add"]
    indented = _short_story(_SHORT[:2], extra).replace("<p>", "\n" + " " * 400 + "<p>")
    assert make_page(indented, None).snapshot.text == two.snapshot.text  # the bound is on text
    # Both trafilatura's glued text and the split read the whole article: no
    # region can vouch for it, so each fetch extracts it in full.
    assert analyze(_short_story(_SHORT[:2], extra), None, None).region is None
    # A story whose headline's words made it long enough is still an article.
    assert isinstance(extract(_short_story([" ".join(_SHORT[1].split()[:12])] * 2)), Article)


@pytest.mark.parametrize(
    "extra",
    [
        '<div class="cookie-consent">نستخدم ملفات تعريف الارتباط</div>',  # the rescue drops it
        "<p>اقرأ أيضا: الحكومة تقر الموازنة</p>",  # the promo filter would drop it
    ],
)
def test_a_glued_text_the_split_cannot_give_back_whole_stays_glued(extra: str) -> None:
    """The split is taken only when it leaves out the headline and nothing
    else: a version stored glued then differs from it by the headline alone,
    which is no edit. Otherwise the text stays as trafilatura gave it."""
    a = extract(_short_story(_SHORT[:2], extra))
    assert isinstance(a, Article) and len(a.paragraphs) == 1
    assert all(p in a.paragraphs[0] for p in _SHORT[:2])
