// Umbrella header of the config module.
#pragma once

#include "config/compose.h"
#include "config/config_error.h"
#include "config/interpolate.h"
#include "config/node.h"
#include "config/override.h"
#include "config/resolve.h"
#include "config/schema.h"
#include "config/search_path.h"
#include "config/sweep.h"
#include "config/toml_io.h"
