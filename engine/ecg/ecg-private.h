/* Small helpers shared by the ECG stages; not part of the engine's interface. */
#pragma once

#include <glib.h>

/* Where the processor has AVX2, a second copy of the loops over every sample, picked when the
 * library is loaded, does eight samples per instruction instead of four. The results are the
 * same to the bit: ISO C mode fuses no multiply-add, and no sum here depends on the vector
 * width (those that vectorise are written in lanes). Used by the filter and the detector. */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define WIDE_LOOPS __attribute__ ((target_clones ("default", "avx2")))
#endif
#endif
#ifndef WIDE_LOOPS
#define WIDE_LOOPS
#endif

/* Defines `static type name (type *v, int n, int k)`: the k-th smallest of v[0..n-1] by
 * quickselect (reorders v). The stages need it for floats and doubles alike. */
#define HP_ECG_DEFINE_SELECT_KTH(name, type)                                                     \
  static type name (type *v, int n, int k)                                                       \
  {                                                                                              \
    int lo = 0, hi = n - 1;                                                                      \
    while (lo < hi)                                                                              \
      {                                                                                          \
        type pivot = v[(lo + hi) / 2];                                                           \
        int i = lo, j = hi;                                                                      \
        while (i <= j)                                                                           \
          {                                                                                      \
            while (v[i] < pivot)                                                                 \
              i++;                                                                               \
            while (v[j] > pivot)                                                                 \
              j--;                                                                               \
            if (i <= j)                                                                          \
              {                                                                                  \
                type t = v[i];                                                                   \
                v[i] = v[j];                                                                     \
                v[j] = t;                                                                        \
                i++;                                                                             \
                j--;                                                                             \
              }                                                                                  \
          }                                                                                      \
        if (k <= j)                                                                              \
          hi = j;                                                                                \
        else if (k >= i)                                                                         \
          lo = i;                                                                                \
        else                                                                                     \
          break;                                                                                 \
      }                                                                                          \
    return v[k];                                                                                 \
  }

/* Moves the found values of v (>= 0; -1 marks a lead that found none) to its front in
 * increasing order and returns how many there are, or 0 when fewer than half the n leads found
 * one: a fiducial the leads mostly did not see is taken as absent. */
static inline int
hp_ecg_sort_found (gint64 *v, int n)
{
  int k = 0;
  for (int l = 0; l < n; l++)
    if (v[l] >= 0)
      v[k++] = v[l];
  if (k == 0 || 2 * k < n)
    return 0;
  for (int i = 1; i < k; i++)
    for (int j = i; j > 0 && v[j - 1] > v[j]; j--)
      {
        gint64 t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return k;
}

/* HP_ECG_DEFINE_SELECT_KTH for the hot medians. Unlike it, this one leaves v in no particular
 * order around k, so a caller that reads the partition afterwards keeps to the other. The stages
 * take medians of a few dozen to a few hundred values many times per record, where a textbook quickselect mispredicts a branch on nearly
 * every comparison: here the partition has no branch that depends on the data (a three-way
 * Lomuto partition around the median of three), and the last few values are ranked by
 * counting. Exact, as any selection is. */
#define HP_ECG_DEFINE_SELECT_KTH_BRANCHLESS(name, type)                                                     \
  static type name (type *v, int n, int k)                                                       \
  {                                                                                              \
    int lo = 0, hi = n - 1;                                                                      \
    while (hi - lo >= 16)                                                                        \
      {                                                                                          \
        type a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];                                   \
        type pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));     \
        int lt = lo;                                                                             \
        for (int i = lo; i <= hi; i++)                                                           \
          {                                                                                      \
            type t = v[i];                                                                       \
            v[i] = v[lt];                                                                        \
            v[lt] = t;                                                                           \
            lt += t < pivot;                                                                     \
          }                                                                                      \
        if (k < lt)                                                                              \
          {                                                                                      \
            hi = lt - 1;                                                                         \
            continue;                                                                            \
          }                                                                                      \
        int eq = lt;                                                                             \
        for (int i = lt; i <= hi; i++)                                                           \
          {                                                                                      \
            type t = v[i];                                                                       \
            v[i] = v[eq];                                                                        \
            v[eq] = t;                                                                           \
            eq += t == pivot;                                                                    \
          }                                                                                      \
        if (k < eq)                                                                              \
          return pivot;                                                                          \
        lo = eq;                                                                                 \
      }                                                                                          \
    for (int i = lo; i <= hi; i++)                                                               \
      {                                                                                          \
        type x = v[i];                                                                           \
        int below = 0, not_above = 0;                                                            \
        for (int j = lo; j <= hi; j++)                                                           \
          {                                                                                      \
            below += v[j] < x;                                                                   \
            not_above += v[j] <= x;                                                              \
          }                                                                                      \
        if (lo + below <= k && k < lo + not_above)                                               \
          return x;                                                                              \
      }                                                                                          \
    return v[k];                                                                                 \
  }
