#version 330 core
// One quad per frame: the unit square, placed by image_to_clip (image pixel -> clip space,
// worked out on the CPU from zoom, pan and pixel spacing).
layout (location = 0) in vec2 corner;
uniform mat3 image_to_clip;
uniform vec2 image_size;
out vec2 uv;

void main ()
{
  vec3 p = image_to_clip * vec3 (corner * image_size, 1.0);
  gl_Position = vec4 (p.xy, 0.0, 1.0);
  uv = corner;
}
