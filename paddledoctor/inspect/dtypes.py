"""Data types as each format spells them, mapped to Paddle's names, with their sizes."""

from __future__ import annotations

# Paddle's name -> bytes per element
ITEMSIZE = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2,
            "int32": 4, "uint32": 4, "float32": 4, "int64": 8, "uint64": 8, "float64": 8,
            "complex64": 8, "complex128": 16, "float8_e4m3fn": 1, "float8_e5m2": 1}

# numpy's type string (without byte order), as a pickled numpy.dtype carries it
NUMPY = {"b1": "bool", "i1": "int8", "u1": "uint8", "i2": "int16", "u2": "uint16", "f2": "float16",
         "i4": "int32", "u4": "uint32", "f4": "float32", "i8": "int64", "u8": "uint64",
         "f8": "float64", "c8": "complex64", "c16": "complex128"}

# VarType.Type of framework.proto (paddle/fluid/framework/framework.proto), in .pdiparams/.pdmodel
VARTYPE = {0: "bool", 1: "int16", 2: "int32", 3: "int64", 4: "float16", 5: "float32", 6: "float64",
           20: "uint8", 21: "int8", 22: "bfloat16", 23: "complex64", 24: "complex128",
           32: "float8_e4m3fn", 33: "float8_e5m2", 36: "uint16", 37: "uint32", 38: "uint64"}

# PIR's serialized type names ("0.t_f32")
PIR = {"t_bool": "bool", "t_i8": "int8", "t_ui8": "uint8", "t_i16": "int16", "t_ui16": "uint16",
       "t_i32": "int32", "t_ui32": "uint32", "t_i64": "int64", "t_ui64": "uint64",
       "t_f16": "float16", "t_bf16": "bfloat16", "t_f32": "float32", "t_f64": "float64",
       "t_c64": "complex64", "t_c128": "complex128", "t_f8e4m3fn": "float8_e4m3fn",
       "t_f8e5m2": "float8_e5m2"}

# safetensors' header dtypes
SAFETENSORS = {"BOOL": "bool", "I8": "int8", "U8": "uint8", "I16": "int16", "U16": "uint16",
               "F16": "float16", "BF16": "bfloat16", "I32": "int32", "U32": "uint32",
               "F32": "float32", "I64": "int64", "U64": "uint64", "F64": "float64",
               "C64": "complex64", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}
