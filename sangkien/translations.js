// The admin's JavaScript msgids (django/contrib/admin/locale/en/LC_MESSAGES/djangojs.po) that its
// Vietnamese catalogue lacks: the date picker's weekdays and captions, the time zone note, the
// two-box selector. `makemessages -d djangojs` reads this file so that locale/vi/LC_MESSAGES/djangojs.po
// keeps them; the admin's jsi18n view merges LOCALE_PATHS over Django's catalogue. Nothing loads it.
/* global gettext, ngettext, pgettext */
"use strict";

gettext("Choose %s by selecting them and then select the \"Choose\" arrow button.");
gettext("Choose all %s");
gettext("Choose selected %s");
gettext("Remove selected %s");
gettext("Remove %s by selecting them and then select the \"Remove\" arrow button.");
gettext("Type into this box to filter down the list of selected %s.");
gettext("(click to clear)");
gettext("Remove all %s");
ngettext("%s selected option not visible", "%s selected options not visible", 0);
gettext("You have selected an action, and you haven’t made any changes on individual fields. You’re probably looking for the Run button rather than the Save button.");
gettext("server");
ngettext("Note: Enter times in the %(timezone)s timezone. (You are %(offset)s hour ahead.)", "Note: Enter times in the %(timezone)s timezone. (You are %(offset)s hours ahead.)", 0);
ngettext("Note: Enter times in the %(timezone)s timezone. (You are %(offset)s hour behind.)", "Note: Enter times in the %(timezone)s timezone. (You are %(offset)s hours behind.)", 0);
gettext("Today (%(date)s)");
gettext("Yesterday (%(date)s)");
gettext("Tomorrow (%(date)s)");
gettext("Previous (%(month)s %(year)s)");
gettext("Next (%(month)s %(year)s)");
gettext("Sunday");
gettext("Monday");
gettext("Tuesday");
gettext("Wednesday");
gettext("Thursday");
gettext("Friday");
gettext("Saturday");
pgettext("abbrev. day Sunday", "Sun");
pgettext("abbrev. day Monday", "Mon");
pgettext("abbrev. day Tuesday", "Tue");
pgettext("abbrev. day Wednesday", "Wed");
pgettext("abbrev. day Thursday", "Thur");
pgettext("abbrev. day Friday", "Fri");
pgettext("abbrev. day Saturday", "Sat");
gettext("%(month)s %(day)s, %(year)s");
gettext("%s (today, current selection)");
gettext("%s (today)");
gettext("%s (current selection)");
