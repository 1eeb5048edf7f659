# Data files compiled into the library (included by src/CMakeLists.txt):
# LW_EMBED_SOURCES lists the generated sources lw_core adds.
include(${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake)
include(${PROJECT_SOURCE_DIR}/cmake/EmbedBinary.cmake)

# The built-in semantic taxonomy, read by src/lib/taxonomy.c.
lw_embed_file(${PROJECT_SOURCE_DIR}/data/taxonomy.json
              ${CMAKE_CURRENT_BINARY_DIR}/lw_taxonomy_data.c lw__taxonomy_json)

# The built-in text encoder, read by src/lib/text_encoder.c (docs/text.md).
lw_embed_binary(${PROJECT_SOURCE_DIR}/data/text-encoder.bin
                ${CMAKE_CURRENT_BINARY_DIR}/lw_text_encoder_data.c lw__text_encoder_bin)

set(LW_EMBED_SOURCES ${CMAKE_CURRENT_BINARY_DIR}/lw_taxonomy_data.c
                     ${CMAKE_CURRENT_BINARY_DIR}/lw_text_encoder_data.c)
