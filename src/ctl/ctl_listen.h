/* The control socket's file: opening it (replacing a stale socket file
 * safely) and removing it. Platform calls only. */
#ifndef FXI_CTL_LISTEN_H
#define FXI_CTL_LISTEN_H

#include <stddef.h>
#include <sys/stat.h>

/* The longest path sun_path holds (108 bytes with the NUL). */
#define FXI_CTL_PATH_MAX 107u

/* Binds and listens on a non-blocking, close-on-exec Unix-domain stream
 * socket at path (1..FXI_CTL_PATH_MAX bytes), mode 0600, and records the
 * file's identity in *st. An existing socket file nobody listens on
 * (connect refused) is removed first. Errors: FX_EINVAL (path length),
 * FX_EADDR (a live server answers at path), FX_EEXIST (path exists and is
 * not a socket), FX_ENOFILE, FX_ESYS. */
int fxi_ctl_listen(const char *path, int *fd, struct stat *st);

/* Closes fd and removes path if it is still the file fxi_ctl_listen
 * created (same device and inode): a file another program put there since
 * is left alone. */
void fxi_ctl_unlisten(const char *path, int fd, const struct stat *st);

#endif
