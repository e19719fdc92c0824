/* review9: report.h promises the code breaks (each test fails today for
 * the reason its comment gives). */
#include <stdlib.h>

#include "helpers.h"

/* report.h:86-87: fx_crash_report_format "Returns the length the full
 * line needs, like snprintf". fx_report_emit (report.h:122-131) is there
 * for behaviours of one's own, whose child ids have no length limit; but
 * report_format.c formats the report's tail into a fixed
 * char tail[FX_REASON_TEXT_MAX + 256] first, so a long child id is cut
 * there and the returned length (and the line, even in a buffer of that
 * length) lacks the rest. */
Test(review9_report, format_length_is_the_full_line_with_a_long_child_id)
{
    char id[400];
    memset(id, 'c', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    fx_crash_report r = {0};
    r.kind = FX_REPORT_SUP_PROGRESS;
    r.label = "my_sup";
    r.child_id = id;
    int n = fx_crash_report_format(&r, NULL, 0);
    cr_assert_gt(n, (int) strlen(id), "the line needs more than the id's %zu bytes: %d",
                 strlen(id), n);
    char *buf = malloc((size_t) n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fx_crash_report_format(&r, buf, (size_t) n + 1), n);
    cr_expect_not_null(strstr(buf, id), "the child id was cut: %s", buf);
    free(buf);
}
