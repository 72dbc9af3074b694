#ifndef GRANTS_CZLIB_SHIM_H
#define GRANTS_CZLIB_SHIM_H
#include <zlib.h>
#endif
