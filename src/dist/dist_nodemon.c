/* Node monitoring (include/fauxtp/dist.h): erlang:monitor_node/2 and
 * net_kernel:monitor_nodes/1 as FX_MSG_NODEUP / FX_MSG_NODEDOWN messages,
 * and what the end of a node's connection does to the node table. The
 * monitors live in fxi_dist (under d->mx), not in the node entries, so
 * fx_dist_stop can still answer them after it cleared the table. */
#include <fauxtp/error.h>
#include <stdlib.h>
#include <string.h>

#include "actor/inbox.h"
#include "dist/dist.h"

typedef struct fxi_nodemon {
    fx_pid pid;
    uint32_t count; /* stacked monitors (or subscriptions) */
    char node[256]; /* monitor_node's node; "" for monitor_nodes */
} fxi_nodemon;

/* Sends `count` events to pid (from the connection when cx is set). */
static void send_event(fxi_dist *d, fx_ctx *cx, fx_pid to, uint32_t type, uint32_t count,
                       const char *node, uint32_t creation, const char *why)
{
    fx_dist_node_event ev;
    memset(&ev, 0, sizeof ev);
    strncpy(ev.node, node, sizeof ev.node - 1);
    ev.creation = creation;
    if (why)
        strncpy(ev.reason, why, sizeof ev.reason - 1);
    for (uint32_t i = 0; i < count; i++) {
        fx_msg *m;
        if (fx_msg_new_behaviour(type, sizeof ev, &m) != 0)
            return;
        memcpy(fx_msg_data_mut(m), &ev, sizeof ev);
        int rc = cx ? fx_send_msg(cx, to, m) : fx_vm_send_msg(d->vm, to, m);
        if (rc != 0) {
            fx_msg_free(m);
            return; /* a dead watcher: the rest would be dropped too */
        }
    }
}

static void remove_at(fxi_dist *d, uint32_t i)
{
    d->nmon[i] = d->nmon[--d->nnmon];
}

void fxi_dist_node_gone(fxi_dist *d, fx_ctx *cx, const char *peer, fx_pid self,
                        const char *why)
{
    fxi_rnode *n = peer[0] ? fxi_dist_find(d, peer) : NULL;
    if (!n || n->conn.id != self.id)
        return; /* not (or no longer) the node's connection */
    bool was_up = n->up;
    uint32_t creation = n->creation;
    n->conn = FX_PID_NONE;
    n->up = false;
    n->busy = false;
    if (was_up)
        fxi_dist_retire(d, n);
    for (uint32_t i = 0; i < d->nnmon;) {
        fxi_nodemon *e = &d->nmon[i];
        if (e->node[0] && strcmp(e->node, peer) == 0) {
            send_event(d, cx, e->pid, FX_MSG_NODEDOWN, e->count, peer, creation, why);
            remove_at(d, i); /* monitor_node fires once */
            continue;
        }
        if (!e->node[0] && was_up)
            send_event(d, cx, e->pid, FX_MSG_NODEDOWN, e->count, peer, creation, why);
        i++;
    }
}

void fxi_dist_node_up(fxi_dist *d, fx_ctx *cx, const fxi_rnode *n)
{
    for (uint32_t i = 0; i < d->nnmon; i++)
        if (!d->nmon[i].node[0])
            send_event(d, cx, d->nmon[i].pid, FX_MSG_NODEUP, d->nmon[i].count, n->name,
                       n->creation, NULL);
}

void fxi_dist_nodemon_stop(fxi_dist *d)
{
    for (uint32_t i = 0; i < d->nnmon; i++) {
        fxi_nodemon *e = &d->nmon[i];
        if (e->node[0]) {
            fxi_rnode *n = fxi_dist_find(d, e->node);
            send_event(d, NULL, e->pid, FX_MSG_NODEDOWN, e->count, e->node,
                       n ? n->creation : 0, "stopped");
            continue;
        }
        for (uint32_t k = 0; k < d->nnodes; k++)
            if (d->nodes[k]->up)
                send_event(d, NULL, e->pid, FX_MSG_NODEDOWN, e->count, d->nodes[k]->name,
                           d->nodes[k]->creation, "stopped");
    }
    d->nnmon = 0;
}

void fxi_dist_nodemon_free(fxi_dist *d)
{
    free(d->nmon);
    d->nmon = NULL;
    d->nnmon = d->cnmon = 0;
}

/* The entry of (pid, node), added with count 0 when add; NULL when absent
 * (or on ENOMEM). Entries of processes that died are dropped first. */
static fxi_nodemon *entry(fxi_dist *d, fx_pid pid, const char *node, bool add)
{
    for (uint32_t i = 0; i < d->nnmon; i++)
        if (d->nmon[i].pid.id == pid.id && strcmp(d->nmon[i].node, node) == 0)
            return &d->nmon[i];
    if (!add)
        return NULL;
    for (uint32_t i = 0; i < d->nnmon;)
        if (fx_is_alive(d->vm, d->nmon[i].pid) != 1)
            remove_at(d, i);
        else
            i++;
    if (d->nnmon == d->cnmon) {
        uint32_t cap = d->cnmon ? d->cnmon * 2 : 8;
        fxi_nodemon *a = realloc(d->nmon, cap * sizeof *a);
        if (!a)
            return NULL;
        d->nmon = a;
        d->cnmon = cap;
    }
    fxi_nodemon *e = &d->nmon[d->nnmon++];
    memset(e, 0, sizeof *e);
    e->pid = pid;
    strcpy(e->node, node);
    return e;
}

/* monitor_node (node set) or monitor_nodes (node NULL) for pid. */
static int change(fx_vm *vm, fx_ctx *cx, fx_pid pid, const char *node, bool on)
{
    char alive[256], host[FXI_DIST_HOST_MAX];
    if (node && (fxi_dist_split_name(node, alive, sizeof alive, host, sizeof host) != 0 ||
                 strlen(node) > 255))
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOTDIST;
    const char *key = node ? node : "";
    int rc = 0;
    fxi_mutex_lock(&d->mx);
    if (!d->running) {
        rc = FX_ENOTDIST;
    } else if (node && strcmp(node, d->name) == 0) {
        rc = 0; /* this node never goes down for itself */
    } else if (!on) {
        fxi_nodemon *e = entry(d, pid, key, false);
        if (e && --e->count == 0)
            remove_at(d, (uint32_t) (e - d->nmon));
    } else {
        fxi_nodemon *e = entry(d, pid, key, true);
        fxi_rnode *n = e && node ? fxi_dist_node_get(d, node, 0) : NULL;
        if (!e || (node && !n)) {
            if (e && e->count == 0)
                remove_at(d, (uint32_t) (e - d->nmon));
            rc = FX_ENOMEM;
        } else if (e->count == UINT32_MAX) {
            rc = FX_ENOMEM;
        } else {
            e->count++;
            /* Not connected: connect now; a failure is the nodedown. */
            if (n && !n->up && !fxi_dist_conn_ensure(d, n).id) {
                send_event(d, cx, pid, FX_MSG_NODEDOWN, e->count, node, n->creation,
                           "connect_failed");
                remove_at(d, (uint32_t) (e - d->nmon));
            }
        }
    }
    fxi_mutex_unlock(&d->mx);
    return rc;
}

FX_API int fx_dist_monitor_node(fx_ctx *cx, const char *node, bool on)
{
    if (!cx || !node)
        return FX_EINVAL;
    return change(cx->vm, cx, fx_self(cx), node, on);
}

FX_API int fx_inbox_monitor_node(fx_inbox *inbox, const char *node, bool on)
{
    if (!inbox || !node)
        return FX_EINVAL;
    return change(inbox->vm, NULL, fx_inbox_pid(inbox), node, on);
}

FX_API int fx_dist_monitor_nodes(fx_ctx *cx, bool on)
{
    if (!cx)
        return FX_EINVAL;
    return change(cx->vm, cx, fx_self(cx), NULL, on);
}

FX_API int fx_inbox_monitor_nodes(fx_inbox *inbox, bool on)
{
    if (!inbox)
        return FX_EINVAL;
    return change(inbox->vm, NULL, fx_inbox_pid(inbox), NULL, on);
}
