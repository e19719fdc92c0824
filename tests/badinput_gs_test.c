#include "badinput.h"
