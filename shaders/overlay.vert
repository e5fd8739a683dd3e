#version 330 core
// Overlay lines arrive as triangles already in clip space: core profiles draw lines one pixel
// wide only, so the CPU widens them.
layout (location = 0) in vec2 position;

void main ()
{
  gl_Position = vec4 (position, 0.0, 1.0);
}
