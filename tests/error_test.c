#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <string.h>

Test(errors, every_code_has_name_and_text)
{
    int codes[] = {
#define X(name, value, text) value,
        FX_ERRORS(X)
#undef X
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        cr_assert_str_neq(fx_strerror(codes[i]), "unknown error");
        cr_assert_str_neq(fx_err_name(codes[i]), "FX_E?");
    }
    cr_assert_str_eq(fx_err_name(FX_ENOPROC), "FX_ENOPROC");
    cr_assert_str_eq(fx_strerror(FX_EMSGSIZE), "message too large");
    cr_assert_str_eq(fx_err_name(0), "FX_OK");
    cr_assert_str_eq(fx_strerror(-9999), "unknown error");
    cr_assert_str_eq(fx_err_name(12345), "FX_E?");
}

/* The builtin reason codes live in the error table: negative, named, and
 * distinct from every application (positive) code. */
Test(errors, reason_codes_are_in_the_table)
{
    cr_assert_lt(FX_ECRASHED, 0);
    cr_assert_lt(FX_EFAULT, 0);
    cr_assert_neq(FX_ECRASHED, FX_EFAULT);
    cr_assert_str_eq(fx_err_name(FX_ECRASHED), "FX_ECRASHED");
    cr_assert_str_eq(fx_err_name(FX_EFAULT), "FX_EFAULT");
    cr_assert_str_neq(fx_strerror(FX_ECRASHED), "unknown error");
    cr_assert_str_neq(fx_strerror(FX_EFAULT), "unknown error");
    cr_assert_str_eq(fx_err_name(1), "FX_E?"); /* an application's code */
    cr_assert_str_eq(fx_err_name(2), "FX_E?");
}

Test(reasons, constructors_and_predicates)
{
    fx_reason n = fx_reason_normal(), s = fx_reason_shutdown(), k = fx_reason_killed();
    fx_reason e = fx_reason_error(7, "boom %d", 42);
    cr_assert(fx_reason_is_normal(&n));
    cr_assert(!fx_reason_is_normal(&s));
    cr_assert(fx_reason_is_clean(&s));
    cr_assert(!fx_reason_is_clean(&k));
    cr_assert(!fx_reason_is_clean(&e));
    cr_assert_eq(e.code, 7);
    cr_assert_str_eq(e.text, "boom 42");
    fx_reason e2 = fx_reason_error(7, "boom 42");
    cr_assert(fx_reason_eq(&e, &e2));
    cr_assert(!fx_reason_eq(&e, &n));
}

Test(reasons, text_is_truncated_and_formatted)
{
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    fx_reason e = fx_reason_error(1, "%s", big);
    cr_assert_eq(strlen(e.text), FX_REASON_TEXT_MAX - 1);
    char buf[128];
    fx_reason r = fx_reason_error(3, "bad");
    cr_assert_eq(fx_reason_format(&r, buf, sizeof buf),
                 (int) strlen("{error,3,\"bad\"}"));
    cr_assert_str_eq(buf, "{error,3,\"bad\"}");
    /* fauxtp's own codes by name, unknown negative ones as numbers */
    r = fx_reason_error(FX_ECRASHED, "boom");
    cr_assert_eq(fx_reason_format(&r, buf, sizeof buf),
                 (int) strlen("{error,FX_ECRASHED,\"boom\"}"));
    cr_assert_str_eq(buf, "{error,FX_ECRASHED,\"boom\"}");
    r = fx_reason_error(FX_EINVAL, NULL);
    fx_reason_format(&r, buf, sizeof buf);
    cr_assert_str_eq(buf, "{error,FX_EINVAL,\"\"}");
    r = fx_reason_error(-9999, "odd");
    fx_reason_format(&r, buf, sizeof buf);
    cr_assert_str_eq(buf, "{error,-9999,\"odd\"}");
    fx_reason k = fx_reason_killed();
    fx_reason_format(&k, buf, sizeof buf);
    cr_assert_str_eq(buf, "killed");
    cr_assert_eq(fx_reason_format(NULL, buf, sizeof buf), FX_EINVAL);
}
