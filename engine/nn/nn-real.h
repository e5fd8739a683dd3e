/* The element type of an nn op file: each ops-*.c includes its *-impl.h twice, once as float
 * (names as written) and once as double (names with _d), through these macros. Private to nn/. */
#undef real
#undef NN
#undef GEMM
#undef SQRT
#undef EXP
#undef LOG
#undef ERF
#undef FABS
#ifdef HP_NN_DOUBLE
#define real double
#define NN(name) name##_d
#define GEMM cblas_dgemm
#define SQRT sqrt
#define EXP exp
#define LOG log
#define ERF erf
#define FABS fabs
#else
#define real float
#define NN(name) name
#define GEMM cblas_sgemm
#define SQRT sqrtf
#define EXP expf
#define LOG logf
#define ERF erff
#define FABS fabsf
#endif
