"""libc socket calls for numba kernels, declared as external symbols the JIT links (Linux).

Invariant: these are typing/codegen helpers, not kernels: pointers travel as int64 addresses
(``array.ctypes.data``) and results come back as int64 (-1 on error, as in C). Declared symbols,
unlike ctypes function pointers, keep the calling kernels cacheable (``cache=True``).
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_I32, _I64, _PTR = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
_declare: Any = cgutils.get_or_insert_function  # declares the external symbol once per module


def _libc_codegen(name: str, c_args: list[Any], c_ret: Any, args: tuple[Any, ...]) -> Any:
    sig = types.int64(*args)

    def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
        fn = _declare(builder.module, ir.FunctionType(c_ret, c_args), name)
        vals = []
        for ty, val, cty in zip(signature.args, llargs, c_args, strict=True):
            v = context.cast(builder, val, ty, types.int64)
            vals.append(
                builder.inttoptr(v, _PTR) if cty == _PTR else builder.trunc(v, _I32) if cty == _I32 else v
            )
        result = builder.call(fn, vals)
        return builder.sext(result, _I64) if c_ret == _I32 else result

    return sig, codegen


def _recvfrom_typer(typingctx: Any, fd: Any, buf: Any, size: Any, flags: Any, addr: Any, addrlen: Any) -> Any:
    """ssize_t recvfrom(int, void *, size_t, int, struct sockaddr *, socklen_t *); pointers as int64."""
    return _libc_codegen(
        "recvfrom", [_I32, _PTR, _I64, _I32, _PTR, _PTR], _I64, (fd, buf, size, flags, addr, addrlen)
    )


def _sendto_typer(typingctx: Any, fd: Any, buf: Any, size: Any, flags: Any, addr: Any, addrlen: Any) -> Any:
    """ssize_t sendto(int, const void *, size_t, int, const struct sockaddr *, socklen_t); NULL addr = send."""
    return _libc_codegen(
        "sendto", [_I32, _PTR, _I64, _I32, _PTR, _I32], _I64, (fd, buf, size, flags, addr, addrlen)
    )


def _connect_typer(typingctx: Any, fd: Any, addr: Any, addrlen: Any) -> Any:
    """int connect(int, const struct sockaddr *, socklen_t)."""
    return _libc_codegen("connect", [_I32, _PTR, _I32], _I32, (fd, addr, addrlen))


recvfrom: Any = intrinsic(_recvfrom_typer)
sendto: Any = intrinsic(_sendto_typer)
connect: Any = intrinsic(_connect_typer)
MSG_DONTWAIT = 0x40
