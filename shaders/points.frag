#version 330 core
// A point sprite cut to a disc (ECG) or a ring (CMR), with an edge one pixel soft so that
// thousands of small points do not alias.
in vec4 colour;
flat in float shape;
flat in float radius;
out vec4 fragment;

void main ()
{
  float r = length (gl_PointCoord - vec2 (0.5)) * 2.0 * radius;  // pixels from the centre
  float a = clamp (radius - r, 0.0, 1.0);
  if (shape > 0.5)
    {
      // a band 1.6 pixels wide just inside the edge
      float inner = radius - 1.6;
      a = min (a, clamp (r - inner + 0.5, 0.0, 1.0));
    }
  if (a <= 0.0)
    discard;
  fragment = vec4 (colour.rgb, colour.a * a);
}
