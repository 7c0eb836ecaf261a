# THIS FILE IS GENERATED FROM PADDLEPADDLE SETUP.PY
#

full_version     = '3.3.1'
major            = '3'
minor            = '3'
patch            = '1'
nccl_version     = '2213'
rc               = '0'
cuda_version     = '12.6'
cudnn_version    = '9.5.1'
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
compiled_cuda_archs     = [61, 70, 75, 80, 86, 89, 90]

# A test fake (SYNTHESIZED): the literals are a paddlepaddle-gpu 3.3.1 cu126 wheel's as Paddle's setup.py writes them; the functions are those
# paddle.version offers.


def cuda():
    return cuda_version


def cudnn():
    return cudnn_version


def nccl():
    return nccl_version


def cuda_archs():
    return compiled_cuda_archs
