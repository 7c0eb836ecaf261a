"""Where one message has several causes, the surrounding lines decide (knowledge/errors.py `context`,
`unless`, `supersedes`): each rule is shown deciding on real text from a thread, and its wrong case
shows that without that context the other cause is kept."""

from __future__ import annotations

from paddledoctor.knowledge import errors


def codes(text: str) -> list[str]:
    return [m.pattern.code for m in errors.scan(text)]


FLAGS_NO_AVX = ("flags\t\t: fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pse36 clflush "
                "mmx fxsr sse sse2 syscall nx lm rep_good nopl xtopology cpuid tsc_known_freq pni cx16 "
                "x2apic hypervisor lahf_lm cpuid_fault")  # PaddleDetection#9488's QEMU Virtual CPU
FLAGS_AVX2 = FLAGS_NO_AVX.replace("hypervisor", "avx avx2 hypervisor")


def test_sigill_with_cpu_flags_lacking_avx_is_the_missing_avx():
    assert codes(FLAGS_NO_AVX + "\nIllegal instruction (core dumped)\n") == ["PD401"]


def test_sigill_with_avx_in_the_flags_is_newer_instructions_or_emulation():
    assert codes(FLAGS_AVX2 + "\nIllegal instruction (core dumped)\n") == ["PD405"]
    assert codes("Illegal instruction (core dumped)\n") == ["PD405"]


PIP_BOTH = "paddlepaddle         1.8.4       \npaddlepaddle-gpu     1.8.4.post97\n"
CPU_MSG = ("2020-09-08 09:14:59 ERROR: You are using paddlepaddle cpu version! Please try to install "
           "paddlepaddle-gpu to run model on GPU.\n")


def test_cpu_build_message_with_both_distributions_listed_is_two_installs():
    assert codes(CPU_MSG + PIP_BOTH) == ["PD102"]


def test_both_distributions_in_pip_freeze_or_conda_list_are_two_installs_too():
    assert codes(CPU_MSG + "paddlepaddle==2.6.2\npaddlepaddle-gpu==2.6.2.post120\n") == ["PD102"]
    conda = ("paddlepaddle              2.6.2                    pypi_0    pypi\n"
             "paddlepaddle-gpu          2.6.2.post120            pypi_0    pypi\n")
    assert codes(CPU_MSG + conda) == ["PD102"]
    # a toolkit of the same family is not the CPU package
    assert codes(CPU_MSG + "paddlepaddle-gpu==2.6.2\npaddlenlp==2.7.2\n") == ["PD101"]


def test_cpu_build_message_alone_is_the_cpu_build():
    assert codes(CPU_MSG) == ["PD101"]
    assert codes(CPU_MSG + "paddlepaddle-gpu     1.8.4.post97\n") == ["PD101"]


def test_both_distributions_listed_without_a_cpu_build_symptom_say_nothing_of_it():
    """PaddleNLP#262 lists both and fails with no kernel image: the arch is the cause it names."""
    text = PIP_BOTH + ("SystemError: (Fatal) Operator uniform_random raises an thrust::system::"
                       "system_error exception.\n:parallel_for failed: cudaErrorNoKernelImageForDevice: "
                       "no kernel image is available for execution on the device.\n")
    assert codes(text) == ["PD202"]


LIBCUDA_WARNING = ("W0508 21:40:15.979074  1551 dynamic_loader.cc:412] The third-party dynamic library "
                   "(libcuda.so) that Paddle depends on is not configured correctly. (error code is "
                   "libcuda.so: cannot open shared object file: No such file or directory)\n")
DEVICE_NOTE = ("W0508 21:40:15.993314  1551 gpu_resources.cc:116] Please NOTE: device: 0, GPU Compute "
               "Capability: 12.0, Driver API Version: 13.2, Runtime API Version: 13.0\n")


def test_libcuda_warning_followed_by_an_initialised_gpu_is_not_an_error():
    """Paddle#78917 (WSL2): the warning, then the device note and GPU timings."""
    assert codes(LIBCUDA_WARNING + DEVICE_NOTE + "GPU 平均耗时: 6.378 ms\n") == []


def test_libcuda_warning_alone_is_the_missing_driver_library():
    assert codes(LIBCUDA_WARNING) == ["PD211"]


NO_GPU_WARNINGS = ("W1102 23:37:44.784431   516 init.cc:157] Compiled with WITH_GPU, but no GPU found in "
                   "runtime.\nUserWarning: You are using GPU version Paddle, but your CUDA device is not "
                   "set properly. CPU device will be used by default.\n")


def test_the_cuda_error_behind_the_no_gpu_warnings_is_the_cause():
    """Paddle#28360: the warnings come first, run_check's original error is CUDA error(35)."""
    driver = "ExternalError:  Cuda error(35), CUDA driver version is insufficient for CUDA runtime version.\n"
    unknown = "ExternalError:  Cuda error(30), unknown error.\n"
    assert codes(NO_GPU_WARNINGS + driver) == ["PD201"]
    assert codes(NO_GPU_WARNINGS + unknown) == ["PD507"]


def test_the_no_gpu_warnings_alone_are_the_gpu_build_seeing_no_gpu():
    assert set(codes(NO_GPU_WARNINGS)) == {"PD209"}  # two rows, two lines, one cause
    assert codes("WARNING:root:You are using GPU version Paddle Fluid, But Your CUDA Device is not set "
                 "properly\n") == ["PD209"]  # the 1.8 install_check wording


def test_dll_load_failed_is_paddles_only_when_paddles_core_is_in_the_traceback():
    core = ('  File "D:\\python\\lib\\site-packages\\paddle\\fluid\\core.py", line 167, in <module>\n'
            "    from .core_avx import *\nImportError: DLL load failed: 找不到指定的程序。\n")
    assert codes(core) == ["PD130"]
    other = ('  File "C:\\Python37\\lib\\site-packages\\cv2\\__init__.py", line 3, in <module>\n'
             "    from .cv2 import *\nImportError: DLL load failed: 找不到指定的模块。\n")
    assert codes(other) == []


def test_the_shared_memory_allocator_text_is_shm_but_the_file_readers_is_not():
    assert codes("RuntimeError: (Unavailable) Memory map failed when create shared memory.\n") == ["PD402"]
    # data_feed.cc reads training files through mmap with the same words and an errno
    assert codes("(Unavailable) Memory map failed when create shared memory, error number is "
                 "Cannot allocate memory.\n") == []


def test_a_dataloader_killed_by_the_kernel_is_memory_and_by_a_bus_error_is_shm():
    assert codes("SystemError: (Fatal) DataLoader process (pid 3063) exited is killed by signal: Killed.\n") \
        == ["PD403"]
    assert codes("SystemError: (Fatal) DataLoader process (pid 3063) exited is killed by signal: Bus error.\n") \
        == ["PD402"]


def test_glibcxx_is_recognised_with_the_quotes_users_paste():
    for quoted in ("`GLIBCXX_3.4.30'", "'GLIBCXX_3.4.30'", "‘GLIBCXX_3.4.30’"):
        text = f"/home/u/anaconda3/bin/../lib/libstdc++.so.6: version {quoted} not found (required by ..\n"
        assert codes(text) == ["PD110"], quoted
    assert codes("version GLIBCXX_3.4.30 found\n") == []


def test_two_rows_for_one_cause_on_one_line_are_one_finding():
    text = ("The third-party dynamic library (libcudnn.so) that Paddle depends on is not configured "
            "correctly. (error code is libcudnn.so: cannot open shared object file: No such file or "
            "directory)\n")
    assert [m.pattern.id for m in errors.scan(text)] == ["cudnn-not-loaded"]
