# Fails when docs/config-reference.md differs from what `sslx docs config-reference` generates.
execute_process(COMMAND "${SSLX}" docs config-reference OUTPUT_VARIABLE generated
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "sslx docs config-reference failed with ${result}")
endif()
file(READ "${DOC}" committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "${DOC} is out of date: regenerate it with\n"
                      "  build/sslx docs config-reference -o docs/config-reference.md")
endif()
