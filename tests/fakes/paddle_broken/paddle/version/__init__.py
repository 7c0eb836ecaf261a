# THIS FILE IS GENERATED FROM PADDLEPADDLE SETUP.PY
#
import inspect

full_version     = '3.3.1'
major            = '3'
minor            = '3'
patch            = '1'
nccl_version     = '0'
rc               = '0'
cuda_version     = 'False'
cudnn_version    = 'False'
hip_version      = None
xpu_xre_version  = 'False'
xpu_xccl_version = 'False'
xpu_xhpc_version = 'False'
is_tagged        = True
commit           = '7688495538f4d6c1893f084dd238a402e8f68ab6'
with_mkl         = 'ON'
with_hml         = ''
cinn_version     = 'False'
tensorrt_version = 'None'
with_pip_cuda_libraries = 'ON'
with_pip_tensorrt       = 'OFF'
compiled_cuda_archs     = []

# A test fake: the literals above are the real paddlepaddle 3.3.1 CPU wheel's. The doctor reads this
# file with ast and must never execute it; if it ever does, this leaves a mark and stops the process.
import os

_executed = os.environ.get("FAKE_PADDLE_VERSION_EXECUTED")
if _executed:
    with open(_executed, "w") as _f:
        _f.write(f"paddle/version/__init__.py executed in pid {os.getpid()}\n")
raise SystemExit("paddle/version/__init__.py was executed")
