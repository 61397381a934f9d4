# cmake -DPROGRAM=... -DEXPECTED=... -P run_and_compare.cmake
execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}; it printed:\n${out}")
endif()
file(READ ${EXPECTED} expected)
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "the README's example printed something else.\n--- README.md says:\n${expected}--- the program printed:\n${out}")
endif()
