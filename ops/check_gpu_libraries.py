"""Build-time check of the GPU image: TensorFlow was built with CUDA, and the CUDA and cuDNN
libraries it loads at run time are in the image (from the nvidia-* wheels), loadable by the
dynamic linker. The GPU and its driver come only with the node, so they are not checked."""

import ctypes
import sys
from pathlib import Path

import tensorflow as tf

info = tf.sysconfig.get_build_info()
if not info.get("is_cuda_build"):
    sys.exit("TensorFlow is not a CUDA build")
nvidia = Path(tf.__file__).parent.parent / "nvidia"
wanted = {
    "cudart": f"libcudart.so.{info['cuda_version'].split('.')[0]}",
    "cudnn": f"libcudnn.so.{info['cudnn_version'].split('.')[0]}",
    "cublas": "libcublas.so.*",
}
for library in wanted.values():
    found = sorted(nvidia.glob(f"*/lib/{library}"))
    if not found:
        sys.exit(f"{library} is not in {nvidia}")
    ctypes.CDLL(str(found[0]), mode=ctypes.RTLD_GLOBAL)
    print(f"found {found[0]}")
print(f"TensorFlow {tf.__version__}: CUDA {info['cuda_version']}, cuDNN {info['cudnn_version']}")
