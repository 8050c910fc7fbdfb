# Turn a file into a C array at build time: cmake -DIN=file -DOUT=file.c -DNAME=sym -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(LENGTH "${hex}" n)
math(EXPR n "${n} / 2")
file(WRITE "${OUT}" "/* generated from ${IN} by embed.cmake */\n#include <stddef.h>\nconst unsigned char ${NAME}[] = {${body}0x00};\nconst size_t ${NAME}_len = ${n};\n")
