// Umbrella header of the registry module.
#pragma once

#include "registry/plugin_loader.h"
#include "registry/registry.h"
#include "registry/registry_index.h"
