/* Small helpers shared by the ECG stages; not part of the engine's interface. */
#pragma once

#include <glib.h>

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
