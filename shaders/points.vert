#version 330 core
// One vertex per point of a projection. Positions stay in data units (less the data's centre,
// for float precision) in the buffer; zoom and pan arrive as a scale and an offset to clip
// space, so moving the view never re-uploads the points.
layout (location = 0) in vec2 position;
layout (location = 1) in vec4 rgba;
layout (location = 2) in vec2 flags;     // shape (0 disc, 1 ring), selected (0 or 1)
uniform vec2 scale;
uniform vec2 offset;
uniform float point_size;                 // framebuffer pixels
uniform float dim_unselected;             // 1 while a selection exists: the rest fades
out vec4 colour;
flat out float shape;
flat out float radius;

void main ()
{
  gl_Position = vec4 (position * scale + offset, 0.0, 1.0);
  // a ring needs a little more room than a disc to read as a ring
  float size = flags.x > 0.5 ? point_size + 2.0 : point_size;
  gl_PointSize = size;
  radius = 0.5 * size;
  shape = flags.x;
  // faded towards the white paper rather than made transparent: a dense cluster of
  // transparent points would add up to its full colour again
  float fade = dim_unselected > 0.5 && flags.y < 0.5 ? 0.3 : 1.0;
  colour = vec4 (mix (vec3 (1.0), rgba.rgb, fade), rgba.a);
}
