/* fauxtp: Erlang/OTP's process model as a C library. Umbrella header. */
#ifndef FAUXTP_H
#define FAUXTP_H

#include "actor.h"
#include "error.h"
#include "gen_server.h"
#include "gen_statem.h"
#include "supervisor.h"
#include "task.h"
#include "testing.h"
#include "typed.h"
#include "app.h"
#include "control.h"
#include "dist.h"
#include "inbox.h"
#include "info.h"
#include "link.h"
#include "log.h"
#include "monitor.h"
#include "net.h"
#include "msg.h"
#include "pool.h"
#include "overload.h"
#include "reason.h"
#include "request.h"
#include "registry.h"
#include "report.h"
#include "timer.h"
#include "types.h"
#include "version.h"
#include "vm.h"

#endif
