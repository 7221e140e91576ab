# The model language's examples (models/dsl/*.nn), included by
# tests/e2e/CMakeLists.txt:
#  - e2e.dsl.<model>.check_clang_asan_ubsan / check_gcc: each compiles, its C
#    builds under the strict compilers and matches the interpreter;
#  - e2e.dsl.tools: fmt is stable, export passes onnx.checker and matches
#    ONNX Runtime and modelc on the DSL, .npz weights give numpy's forward
#    pass, initializers follow the documented generator, CLI errors
#    (tests/e2e/dsl.py).
file(GLOB DSL_MODELS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/models/dsl/*.nn)
foreach(path ${DSL_MODELS})
  get_filename_component(m ${path} NAME_WE)
  add_test(NAME e2e.dsl.${m}.check_clang_asan_ubsan
           COMMAND modelc check ${path} --cc ${CLANG_SAN}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  add_test(NAME e2e.dsl.${m}.check_gcc
           COMMAND modelc check ${path} --cc ${GCC_STRICT}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(e2e.dsl.${m}.check_clang_asan_ubsan e2e.dsl.${m}.check_gcc
                       PROPERTIES FAIL_REGULAR_EXPRESSION "check failed")
endforeach()
add_test(NAME e2e.dsl.tools
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/dsl.py $<TARGET_FILE:modelc>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(e2e.dsl.tools PROPERTIES FAIL_REGULAR_EXPRESSION "FAIL:" TIMEOUT 600)
