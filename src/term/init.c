/* ei_init, once per process. */
#include "term/etf.h"

#include <fauxtp/error.h>

#include <ei.h>
#include <pthread.h>

static pthread_once_t ei_once = PTHREAD_ONCE_INIT;
static int ei_rc;

static void ei_init_once(void)
{
    ei_rc = ei_init();
}

int fxi_term_ei_init(void)
{
    /* pthread_once orders ei_init's writes before every caller's return
     * (POSIX: the once routine happens-before any pthread_once return). */
    pthread_once(&ei_once, ei_init_once);
    return ei_rc == 0 ? 0 : FX_ENOMEM;
}
