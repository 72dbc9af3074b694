#ifndef GRANTS_CLIBYAML_SHIM_H
#define GRANTS_CLIBYAML_SHIM_H
#include <yaml.h>
#endif
