# A layer for x86_64 functions on python3.13 whose old versions stay in the
# account; the hash of the zip is given (built after planning).
name             = "orders-dependencies-x86"
filename         = "../../build/dependencies-python3.13-x86_64.zip"
source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
runtime          = "python3.13"
architecture     = "x86_64"
skip_destroy     = true
