# Sum the Criterion JSON reports of one ctest run (and those the shell checks
# leave, cmake/check_report.cmake) into Criterion's own "[====] Synthesis:"
# line, then the plain closing line "N passed, N failed, N skipped".
# MODE=reset (before the run) empties DIR and removes FAILED, ctest's list
# of the tests that failed, which is left over from an earlier run.
# Criterion counts crashes among the failed tests and skips in neither, so
# Tested = passed + failed.  A skip is counted, never hidden: under
# SX_REQUIRE_CORPORA (CI) a missing ../shared or tool fails instead.
if(MODE STREQUAL "reset")
  file(REMOVE_RECURSE "${DIR}")
  file(MAKE_DIRECTORY "${DIR}")
  file(REMOVE "${FAILED}")
  return()
endif()
file(GLOB reports "${DIR}/*.json")
set(p 0)
set(f 0)
set(c 0)
set(s 0)
foreach(r IN LISTS reports)
  file(READ "${r}" js)
  string(JSON np GET "${js}" passed)
  string(JSON nf GET "${js}" failed)
  string(JSON nc GET "${js}" errored)
  string(JSON ns GET "${js}" skipped)
  math(EXPR p "${p}+${np}")
  math(EXPR f "${f}+${nf}")
  math(EXPR c "${c}+${nc}")
  math(EXPR s "${s}+${ns}")
endforeach()
# A test ctest saw fail without a report that says so (a timeout, a runner
# that died) counts as one failed test: a failed run never sums to 0 failed.
if(EXISTS "${FAILED}")
  file(STRINGS "${FAILED}" lines)
  foreach(l IN LISTS lines)
    string(REGEX REPLACE "^[0-9]+:" "" name "${l}")
    set(nf 0)
    if(EXISTS "${DIR}/${name}.json")
      file(READ "${DIR}/${name}.json" js)
      string(JSON nf GET "${js}" failed)
    endif()
    if(nf EQUAL 0)
      math(EXPR f "${f}+1")
    endif()
  endforeach()
endif()
math(EXPR t "${p}+${f}")
message("[====] Synthesis: Tested: ${t} | Passing: ${p} | Failing: ${f} | Crashing: ${c}")
message("${p} passed, ${f} failed, ${s} skipped")
