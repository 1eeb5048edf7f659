# Warnings, hygiene and sanitizer flags applied to every target.
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                    -Wformat=2 -Wno-unused-parameter)
if(LW_WERROR)
  add_compile_options(-Werror)
endif()
# Hot numeric loops call exp() on whole rows; -fno-math-errno lets gcc
# vectorise them through libmvec without changing any result bit.
add_compile_options(-fno-math-errno)
if(LW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
