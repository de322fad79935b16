/* fake_common: shared by the stand-ins (being written) */
#include "fake_common.h"
