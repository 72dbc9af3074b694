#ifndef GRANTS_CLIBPQ_SHIM_H
#define GRANTS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
