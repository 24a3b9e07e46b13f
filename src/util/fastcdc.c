#include "fastcdc.h"

#include <assert.h>

#include "banned.h"

/*
 * NOTES ON THE CHUNK BOUNDARIES
 *
 * 1. The gear hash: h = (h << 1) + gear[byte] for every byte of a chunk,
 *    from h = 0 at its start. Byte k bytes back is shifted left k times,
 *    so after 64 more bytes it has left the 64-bit hash: h depends on the
 *    last 64 bytes only, and bit i of h on the last i + 1.
 *
 * 2. fastcdc_gear[i] is the (i+1)-th output of splitmix64 (Steele, Lea and
 *    Flood; the generator of java.util.SplittableRandom) seeded with
 *    0x6c6162746170652d, "labtape-" in ASCII read big-endian:
 *	x += 0x9e3779b97f4a7c15;
 *	z = x;
 *	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
 *	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *	output z ^ (z >> 31)
 *    test-fastcdc recomputes it.
 *
 * 3. A mask of b one bits has bit 63 - floor(i * 48 / b) set for i = 0 ..
 *    b - 1: the bits are spread over the top 48 bits of the hash, so that
 *    a boundary depends on the last 46 to 64 bytes, not on the last b
 *    (the paper's "zero padding": a small window makes boundaries depend
 *    on too little content and repeat in low-entropy data).
 *
 * 4. After hashing the byte that makes the chunk len bytes long, the chunk
 *    ends there if len == FASTCDC_MAX, or if len >= FASTCDC_MIN and
 *    (h & mask) == 0, where mask is FASTCDC_MASK_S while len <
 *    FASTCDC_AVG and FASTCDC_MASK_L from then on. So every chunk but the
 *    last of an input is FASTCDC_MIN .. FASTCDC_MAX bytes long.
 *
 * 5. By note 1, no byte before position FASTCDC_MIN - 64 of a chunk can
 *    affect a cut; fastcdc_feed() skips them without hashing (FastCDC's
 *    "cut-point skipping"), which gives the same boundaries as hashing
 *    them.
 */

#define SKIP (FASTCDC_MIN - 64)

const uint64_t fastcdc_gear[256] = {
	0xb88f266b33fadf7b, 0x75ee1766f84bdc09, 0xa1b0e2557878b718,
	0x44f906115e76a296, 0x753a48a3fdcdbb03, 0x941dcb078efbfc26,
	0x9e4a45185a75317d, 0x0475985f83460b24, 0x95dc2e875476bd71,
	0x8742b569d15e5d4a, 0x73d554a6480a97c2, 0xf81ee5d87f1d7952,
	0x1f486251e83a2bcc, 0x1a9f1b6a4e1948b9, 0x365e933636adf855,
	0xc368fff315a0d3e7, 0xb7f2a79f9d49c97c, 0x92890774f4dbbe9f,
	0xf886170b9ec91755, 0xf9c836c646f0d7a1, 0xd685baebeca7f1be,
	0x15c01c1f2b4fa45e, 0xb0fb14a20caaad78, 0x75583e508eeb66cd,
	0x63c9eb0955f35c93, 0x75f84a95bb947107, 0x191d6a41a15a5dee,
	0xb473e617e7693ba5, 0x000cf3d4c821e1d4, 0x33df8f7aa27b2dcb,
	0xd29ea39ca0106dd0, 0xb8d8e1b18bf14813, 0xe2c14ca85a0c234f,
	0x83c8a507d0a338f6, 0x9274912a412163cc, 0x7770217b68fffc0c,
	0x4712ba08b04650dc, 0x3259d0640e59e635, 0xfcdd500bafa8d96d,
	0xb1be828961860b95, 0x679d88cb535648a6, 0x227c857723adc73b,
	0x304787ea9562f643, 0x3e4a9a6659a0b0ee, 0xeda6fd29df4d6d2f,
	0xa81d9bacc99fddbc, 0xacd8f544a101b6a2, 0x9b3b8382ac2a0a89,
	0x86ebe82d3a0025b1, 0xe560b6473eff0f48, 0x8bf5c60030842811,
	0x8f1e8c65dd491b2c, 0x061b3a39e8fab3e4, 0x889078b736dc086b,
	0x5e1b76897620ab27, 0xd51aca02b8ac6868, 0xef7820f3ad30ba52,
	0x11318a6e1ce50c86, 0xaf2ac6fdf1d1004a, 0xf5575dd4a63bd273,
	0x3962661f3b7db14f, 0x15735ff21c46cf4b, 0xf8a24324175a1f1e,
	0x57fccd92b1101387, 0x06a841bef90df65e, 0x930bbaa824cde0d6,
	0x735a5682181f7ea9, 0x490411d57cc80244, 0xa4be611d397c1137,
	0x808d4625a85ba139, 0x44a906adb068cfcf, 0xb78a4a04e3b82b60,
	0x8e747f7f629bd51f, 0xb76be324df658c2d, 0x5e5bf3c865c8c46c,
	0x2c19ba6f6fa7e18f, 0xbf5d9dba677ff50e, 0xcb134fc6321f0120,
	0x7c4c6469bfb963dd, 0x17eeda4ca8cf43f8, 0xa02f6d110372b7e1,
	0x0b04db08b877f2a5, 0x3fc6c567e67c1ae6, 0x2260d5b556fdb5a9,
	0x02940556a65ee745, 0x44e6c568c6d09a7a, 0xc03922552319f2b5,
	0x55aeef66ad74039f, 0x7397c8078733c92f, 0x5d9015475f46eef7,
	0x54bdeaef26345de6, 0xc29b2725a24af778, 0x82d9775634ce547d,
	0xf42f71cdaa94ae22, 0x797650d265f95860, 0x17fed0b08dec6808,
	0x95786a27fd947eba, 0xcca4910faf94a4c9, 0x2fe4d3adb6c0ca93,
	0x0d479dcf40e2198f, 0x23f6380161f685c7, 0x196797d65445dfbf,
	0x267fe5226426e242, 0x7d343ae2e0f470e3, 0x50416d9b37d76947,
	0xd403ab6bdc486d29, 0xb4dfe9994ae9105c, 0xeb8f0ba4edbc4d94,
	0x88b733e48c6186bf, 0x9722074d1c4afdb3, 0x49be98b74f37e2cf,
	0x93ccb3bf6c9d8c9c, 0xc31c5005665b7b2b, 0x1105ea074f7d60a8,
	0x65b3cfd4e8225a32, 0x97a5daff5e92adff, 0x7d922eda887e2b4a,
	0x4c3bf4c33fcba7bc, 0x65557093659f7857, 0xee29beee1a45369b,
	0xb40f3b6b0418b5a6, 0x38399bd203b77643, 0xb459d030b9af03c0,
	0x22aaf7b2d9432cc0, 0xb751b06bd68678c5, 0xf243c208947dc8f8,
	0xdbc554a9bbea683d, 0xb743c39f2e3518e0, 0xa33142cced055796,
	0x38fd28fe8caf364b, 0x4eb37272c18bba96, 0x1f6a7c7efba87d07,
	0x7bf4d2cafd0d6771, 0x7ac8279ecb5dc720, 0xb9bf05b1bceac20c,
	0x3e849bd177b8552f, 0xc0a0ca533c1a91b4, 0x93d6cb7503c77ae3,
	0xf38526cbba3d84a9, 0xb80bfead37b44bb3, 0xd3342481b14d4632,
	0x4204bfcef3a62823, 0xc39e8c2fd3e867a3, 0xbed522c777fe3d16,
	0xa59fe8c11e9e4bb3, 0x7b9af513688bc727, 0x37647e7ca1b4c01f,
	0xd6bc8260c7f9739e, 0x25091bb244eb5b3e, 0x6fccfde1ab91909f,
	0x654bd90495840813, 0xfc60656d07a4ec70, 0x37c02ec950451468,
	0x6f0e6dbf6da02fd7, 0xecff5775244e0b58, 0x3c8562dfdee9c517,
	0x3b234ae71aaf1a2a, 0x2138934540e8d3e1, 0x8ecbf2e97d4569d1,
	0xeaf5597a776835fe, 0x7d5395105743d67d, 0x71394728becbebda,
	0xafdad034836dfa33, 0x47c573dafbec575b, 0x96118a8e521d116c,
	0x08e3eede884a3715, 0x90df7d91fa72681a, 0xa9d00904f266f47a,
	0xd555969b24952285, 0xadbc38c2da2a89ba, 0x01b8077f2b6c809f,
	0x7abdf1dde3bd5d04, 0x59e5db7fc2dc8dce, 0x9512b130e5953393,
	0x0f2d39fe43a904ea, 0xcfd8ae83743bb2ce, 0xe4347ee29f9e8e88,
	0x5c5eaf32022587e3, 0x7d16fd218c8d4cdb, 0xbe2f4509db861032,
	0xe4879ba9fc60a55e, 0x27f7ea523d8c8577, 0x4ebf69875dbc3049,
	0x2b00c1d240d82c30, 0x4897e01790514e38, 0x40988790241c44b7,
	0xc225d45042d547a7, 0x4dd4ec511cd6544f, 0x0f1c771341ff005f,
	0x67c67974967c0f16, 0x80efcb4dc5696e3a, 0xd0ff9fa339a14d6b,
	0x4e4aba63ea03944b, 0x1da2d06692c2db17, 0x1030ba9dcf7031c6,
	0xcb25d4b6f13218cc, 0x269b921d683dadec, 0x3e3bb47bb71a044c,
	0x3c5ba5379614ca43, 0xee6876b224249b09, 0xc6df6a7612c9ccf8,
	0xb7c4754bd0d73725, 0x44682a2b4d438535, 0x4ed43b338197493a,
	0x0c8dd69ca3b19250, 0xb60cad6376c24066, 0x7795f281f1fa065a,
	0x61fdb256fb5b5545, 0x1a0ff2885b4e4ab7, 0x497a9f5d9945c816,
	0x7079548d27b4c529, 0xac9149584b4e9a36, 0x6088e134741e26ca,
	0x5efa3d7355a33604, 0x62fb4bbd1898d39e, 0xd53813fddb5af56b,
	0xdda04a0a58401170, 0x4f6b81f79eb93220, 0x6037f2a88e403f22,
	0x0c449c53d23cb54b, 0x75caca5f6646f8b0, 0x0b0e7dc9359e7711,
	0x6d117d3963af6c6c, 0xa13ab38b19701ada, 0xe040b4bacb3fb9b7,
	0xc397e0e8b78cc6b0, 0x9b2254cb6c5bc148, 0xaf171472d1ff2ea5,
	0x67bd151dd105e346, 0x675e542bbdefc7dc, 0x5ccd6319af51a070,
	0x42c4ac4efbac9419, 0x8739356c6f959069, 0x2f2003c06b242059,
	0x85ccea1b88c763b3, 0x28d7c54fbb7c6b04, 0xdbf1505495d6872a,
	0xca0dce4a78b68969, 0xb5acb9b2e1782f3b, 0x45f392e7a600115c,
	0x28e93db39cd8d99f, 0x8e861e2867d30578, 0xf7505f0b9324e0e9,
	0xf8b451e1c69ad4bd, 0x437619535ffc6dec, 0x2cdf568bf2cc6237,
	0xf6a5bdd95164d786, 0xb6e13ceb5ae12fcb, 0x28174baabfd4e55a,
	0x00853931cbb77f53, 0x920db5ef2649bcdf, 0xd5113f626ae4819c,
	0xa1648f4a90722786, 0x5e8b556f4f6e587a, 0xe3bfc186ce4fc2b9,
	0x36df26d399f37386,
};

void fastcdc_init(struct fastcdc *c)
{
	c->hash = 0;
	c->len = 0;
}

size_t fastcdc_feed(struct fastcdc *c, const uint8_t *p, size_t n, int *cut)
{
	uint64_t h = c->hash;
	size_t len = c->len, i = 0;

	if (len < SKIP) {
		/* h is still 0: nothing has been hashed yet (note 5). */
		i = n < SKIP - len ? n : SKIP - len;
		len += i;
	}
	/* The bytes that make the chunk up to FASTCDC_MIN - 1 long. */
	for (; i < n && len < FASTCDC_MIN - 1; i++, len++)
		h = (h << 1) + fastcdc_gear[p[i]];
	/* Those that make it FASTCDC_MIN .. FASTCDC_AVG - 1 long. */
	while (i < n && len < FASTCDC_AVG - 1) {
		h = (h << 1) + fastcdc_gear[p[i++]];
		len++;
		if (!(h & FASTCDC_MASK_S))
			goto found;
	}
	/* Those that make it FASTCDC_AVG .. FASTCDC_MAX long. */
	while (i < n) {
		h = (h << 1) + fastcdc_gear[p[i++]];
		len++;
		if (!(h & FASTCDC_MASK_L) || len == FASTCDC_MAX)
			goto found;
	}
	c->hash = h;
	c->len = len;
	*cut = 0;
	return n;
found:
	c->hash = 0;
	c->len = 0;
	*cut = 1;
	return i;
}

size_t fastcdc_first(const uint8_t *p, size_t n)
{
	struct fastcdc c;
	int cut;
	size_t used;

	fastcdc_init(&c);
	used = fastcdc_feed(&c, p, n, &cut);
	assert(cut || used == n);
	return used;
}
