/* fauxtp: Erlang/OTP's process model as a C library. Umbrella header. */
#ifndef FAUXTP_H
#define FAUXTP_H

#include "actor.h"
#include "error.h"
#include "gen_server.h"
#include "supervisor.h"
#include "app.h"
#include "inbox.h"
#include "link.h"
#include "monitor.h"
#include "msg.h"
#include "overload.h"
#include "reason.h"
#include "registry.h"
#include "report.h"
#include "timer.h"
#include "types.h"
#include "vm.h"

#endif
