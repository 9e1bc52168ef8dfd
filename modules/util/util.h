// Umbrella header of the util module.
#pragma once

#include "util/console.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"
