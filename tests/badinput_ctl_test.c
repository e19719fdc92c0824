/* Bad-input table: control.h, and fx_vm_config.control_path (vm.h).
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* A fresh directory for a socket path. */
static void bi_tmpdir(char *dir, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, size, "%s/fauxtp-bi-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
}

/* --- control.h ------------------------------------------------------------- */

Test(bi_ctl, metrics_null_vm, .description = "fx_vm_metrics_text | vm NULL | FX_EINVAL")
{
    char buf[64];
    bi_expect(fx_vm_metrics_text(NULL, buf, sizeof buf), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_ctl, metrics_null_buf,
     .description = "fx_vm_metrics_text | buf NULL with size 64 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_metrics_text(t.vm, NULL, 64), FX_EINVAL);
    bi_end(&t);
}

Test(
    bi_ctl, metrics_tiny_buf,
    .description = "fx_vm_metrics_text | size 1 | \"\" written, the full length returned")
{
    tvm t = bi_start();
    char b[1] = {'x'};
    int n = fx_vm_metrics_text(t.vm, b, 1);
    cr_assert_gt(n, 1);
    cr_assert_eq(b[0], '\0');
    bi_end(&t);
}

Test(bi_ctl, metrics_after_shutdown,
     .description = "fx_vm_metrics_text | after shutdown | the final counts, fauxtp_up 0")
{
    fx_vm *vm = bi_dead_vm(NULL);
    char buf[16384];
    int n = fx_vm_metrics_text(vm, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert_lt(n, (int) sizeof buf);
    cr_assert(strstr(buf, "fauxtp_up 0\n"), "%s", buf);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

/* --- vm.h: control_path ------------------------------------------------------ */

Test(bi_ctl, create_control_path_long,
     .description =
         "fx_vm_create | control_path of 108 bytes (more than sun_path holds) | "
         "FX_EINVAL, *out NULL")
{
    char path[109];
    memset(path, 'p', 108);
    path[0] = '/';
    path[108] = '\0';
    fx_vm_config c = bi_config();
    c.control_path = path;
    fx_vm *vm = (fx_vm *) 1;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    cr_assert_null(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_ctl, create_control_path_empty,
     .description = "fx_vm_create | control_path \"\" | FX_EINVAL")
{
    fx_vm_config c = bi_config();
    c.control_path = "";
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_ctl, start_control_path_regular_file,
     .description = "fx_vm_start | control_path names a regular file | FX_EEXIST, the "
                    "file untouched, the VM not started")
{
    char dir[256], path[300];
    bi_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/file", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    fx_vm_config c = bi_config();
    c.control_path = path;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    bi_expect(fx_vm_start(vm), FX_EEXIST);
    cr_assert_eq(fx_vm_running(vm), 0);
    fx_vm_destroy(vm);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    unlink(path);
    rmdir(dir);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_ctl, start_control_path_live,
     .description = "fx_vm_start | control_path where another VM's socket listens | "
                    "FX_EADDR, the other VM's socket untouched")
{
    char dir[256], path[300];
    bi_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    fx_vm_config c = bi_config();
    c.control_path = path;
    tvm t = tvm_start_with(&c);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    bi_expect(fx_vm_start(vm), FX_EADDR);
    fx_vm_destroy(vm);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISSOCK(st.st_mode));
    bi_end(&t);
    rmdir(dir);
}

Test(bi_ctl, start_control_path_no_dir,
     .description = "fx_vm_start | control_path in a directory that does not exist | "
                    "FX_ESYS, the VM not started")
{
    fx_vm_config c = bi_config();
    c.control_path = "/nonexistent-fauxtp-dir/vm.sock";
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    bi_expect(fx_vm_start(vm), FX_ESYS);
    cr_assert_eq(fx_vm_running(vm), 0);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}
