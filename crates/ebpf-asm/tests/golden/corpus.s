# Hand-written corpus covering every opcode (assembled by llvm-mc-19 -mcpu=v4).
# Lines with .byte encode what llvm-mc-19 cannot assemble. Regenerate the .o and
# .objdump files with EBPF_TESTDATA_UPDATE=1 cargo test -p ebpf-asm --test golden.
r0 = 0
r1 = 22
w1 = 22
r1 += r2
w1 += w2
r1 -= 3
r1 *= r2
r1 /= r2
r1 s/= r2
r1 %= r2
r1 s%= r2
w1 s/= w2
w1 s%= 5
r1 |= r2
r1 &= r2
r1 <<= r2
r1 >>= r2
r1 s>>= r2
r1 ^= r2
r1 = r2
r1 = -r1
w1 = -w1
r1 = (s8)r2
r1 = (s16)r2
r1 = (s32)r2
w1 = (s8)w2
w1 = (s16)w2
r1 = be16 r1
r1 = be32 r1
r1 = be64 r1
r1 = le16 r1
r1 = le32 r1
r1 = le64 r1
r1 = bswap16 r1
r1 = bswap32 r1
r1 = bswap64 r1
r1 = 0x1122334455667788 ll
r1 = -1 ll
r1 = *(u8 *)(r2 + 4)
r1 = *(u16 *)(r2 - 4)
r1 = *(u32 *)(r2 + 4)
r1 = *(u64 *)(r2 + 4)
r1 = *(s8 *)(r2 + 4)
r1 = *(s16 *)(r2 + 4)
r1 = *(s32 *)(r2 + 4)
*(u8 *)(r10 - 8) = r1
*(u64 *)(r10 - 8) = r1
*(u32 *)(r10 - 8) = 5
*(u64 *)(r10 - 8) = -5
lock *(u32 *)(r10 - 8) += w1
lock *(u64 *)(r10 - 8) += r1
lock *(u64 *)(r10 - 8) &= r1
lock *(u64 *)(r10 - 8) |= r1
lock *(u64 *)(r10 - 8) ^= r1
r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
w1 = atomic_fetch_add((u32 *)(r10 - 8), w1)
r1 = atomic_fetch_and((u64 *)(r10 - 8), r1)
r1 = atomic_fetch_or((u64 *)(r10 - 8), r1)
r1 = atomic_fetch_xor((u64 *)(r10 - 8), r1)
r1 = xchg_64(r10 - 8, r1)
w1 = xchg32_32(r10 - 8, w1)
r0 = cmpxchg_64(r10 - 8, r0, r1)
w0 = cmpxchg32_32(r10 - 8, w0, w1)
r0 = *(u8 *)skb[4]
r0 = *(u16 *)skb[r1]
goto +1
gotol +16
may_goto +1
if r0 == 0 goto +3
if r0 != r1 goto +3
if w0 == 0 goto +3
if w0 s< w1 goto -3
if r0 & 1 goto +1
if r0 s> 1 goto +1
if r0 s>= 1 goto +1
if r0 s<= 1 goto +1
if r0 < 1 goto +1
if r0 <= 1 goto +1
if r0 > 1 goto +1
if r0 >= 1 goto +1
call 1
call -1
callx r1
exit
w1 = 0xffffffff
r1 = -2147483648
w1 = -w1
r1 = addr_space_cast(r2, 0x1, 0x0)
r1 = addr_space_cast(r2, 0x0, 0x1)
w1 -= w2
w1 *= 7
w1 /= w2
w1 %= 3
w1 |= w2
w1 &= 0xff
w1 <<= 3
w1 >>= w2
w1 s>>= 1
w1 ^= w2
w1 = w2
w1 s/= 3
r1 s%= -3
r1 s/= 3
r0 = *(u32 *)skb[0x100]
r0 = *(u8 *)skb[r2]
r0 = *(u32 *)skb[r3]
lock *(u32 *)(r1 + 16) &= w2
lock *(u32 *)(r1 + 16) |= w2
lock *(u32 *)(r1 + 16) ^= w2
w2 = atomic_fetch_and((u32 *)(r1 + 16), w2)
w2 = atomic_fetch_or((u32 *)(r1 + 16), w2)
w2 = atomic_fetch_xor((u32 *)(r1 + 16), w2)
*(u16 *)(r1 + 2) = r3
*(u32 *)(r1 + 4) = r3
*(u8 *)(r1 + 1) = 255
*(u16 *)(r1 + 2) = -1
r1 = *(u64 *)(r2 - 32768)
r1 = *(u64 *)(r2 + 32767)
if r1 == r2 goto +1
if r1 > r2 goto +1
if r1 >= r2 goto +1
if r1 < r2 goto +1
if r1 <= r2 goto +1
if r1 s> r2 goto +1
if r1 s>= r2 goto +1
if r1 s< r2 goto +1
if r1 s<= r2 goto +1
if r1 & r2 goto +1
if w1 != 5 goto +1
if w1 > 5 goto +1
if w1 >= w2 goto +1
if w1 < 5 goto +1
if w1 <= w2 goto +1
if w1 s> 5 goto +1
if w1 s>= w2 goto +1
if w1 s<= 5 goto +1
if w1 & 5 goto +1
if r1 != -1 goto -32768
goto +32767
.byte 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80
w1 += 5
r1 += 5
w1 -= 5
r1 -= r2
r1 *= 5
w1 *= w2
w1 |= 5
r1 |= 5
r1 &= 5
w1 &= w2
r1 <<= 5
w1 <<= w2
w1 >>= 5
r1 >>= 5
w1 %= w2
w1 ^= 5
r1 ^= 5
r1 s>>= 5
w1 s>>= w2
r0 = *(u16 *)skb[0x4]
if w1 == w2 goto +1
if w1 > w2 goto +1
if w1 >= 5 goto +1
if w1 & w2 goto +1
if w1 != w2 goto +1
if w1 s> w2 goto +1
if w1 s>= 5 goto +1
if w1 < w2 goto +1
if w1 <= 5 goto +1
if r1 s< 5 goto +1
if w1 s< 5 goto +1
if w1 s<= w2 goto +1
# load-acquire (u8, u16, u32, u64) and store-release, in little endian
.byte 0xd3, 0x21, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00
.byte 0xcb, 0x21, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00
.byte 0xc3, 0x21, 0x04, 0x00, 0x00, 0x01, 0x00, 0x00
.byte 0xdb, 0x21, 0xf8, 0xff, 0x00, 0x01, 0x00, 0x00
.byte 0xd3, 0x21, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00
.byte 0xcb, 0x21, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00
.byte 0xc3, 0x21, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00
.byte 0xdb, 0x21, 0x08, 0x00, 0x10, 0x01, 0x00, 0x00
# ld_imm64 with pseudo sources 1-6 (map value with a high half)
.byte 0x18, 0x11, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
.byte 0x18, 0x21, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00
.byte 0x18, 0x31, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
.byte 0x18, 0x41, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
.byte 0x18, 0x51, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
.byte 0x18, 0x61, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00
# bpf-to-bpf call (src 1), kfunc call (src 2) with and without a module index
.byte 0x85, 0x10, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00
.byte 0x85, 0x20, 0x00, 0x00, 0x39, 0x30, 0x00, 0x00
.byte 0x85, 0x20, 0x01, 0x00, 0x39, 0x30, 0x00, 0x00
# LD_IND with an immediate
.byte 0x40, 0x10, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00
.byte 0x48, 0x20, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff
exit
