#include "CTLSShim.h"
int ctls_shim_version(void) { return 1; }
