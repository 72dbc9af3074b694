#ifndef GRANTS_CXLSXWRITER_SHIM_H
#define GRANTS_CXLSXWRITER_SHIM_H
#include <xlsxwriter.h>
#endif
