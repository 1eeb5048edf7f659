# Debian 12 packages the library links (see ARCHITECTURE.md).
find_package(PkgConfig REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS C)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(LAPACKE REQUIRED IMPORTED_TARGET lapacke)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
pkg_check_modules(LIBFYAML REQUIRED IMPORTED_TARGET libfyaml)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(LIBCURL REQUIRED IMPORTED_TARGET libcurl)
# Language identification of texts: libexttextcat and its language models.
pkg_check_modules(LIBEXTTEXTCAT REQUIRED IMPORTED_TARGET libexttextcat)
pkg_get_variable(LW_TEXTCAT_DATA_DIR libexttextcat pkgdatadir)
# Image input: PNG (libpng, which brings zlib: also used for .gz IDX files) and JPEG.
pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(LIBJPEG REQUIRED IMPORTED_TARGET libjpeg)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
# The server: HTTP (libmicrohttpd), passwords and tokens (libsodium).
pkg_check_modules(LIBMHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(LIBSODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(Threads REQUIRED)

# Our own OpenMP regions sit beside BLAS calls, so link the OpenMP build of
# OpenBLAS explicitly: one thread runtime, no oversubscription.
find_library(LW_OPENBLAS openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/aarch64-linux-gnu/openblas-openmp
  NO_DEFAULT_PATH)
if(NOT LW_OPENBLAS)
  message(FATAL_ERROR "OpenMP OpenBLAS not found: apt-get install libopenblas-openmp-dev")
endif()
find_path(LW_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-openmp)
# XGBoost models run and train in-process through its C API.
find_library(LW_XGBOOST xgboost)
if(NOT LW_XGBOOST)
  message(FATAL_ERROR "libxgboost not found: apt-get install libxgboost-dev")
endif()
